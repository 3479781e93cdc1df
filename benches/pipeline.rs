//! Criterion benchmarks of the validate half of the pipeline: CSV read +
//! map, and the whole validate run (read → map → normalize → dedupe →
//! report) on a generated messy file.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use waport::commands::generate::{GenerateConfig, run as generate};
use waport::commands::validate::{ValidateConfig, run as validate};
use waport::mapping::Mapping;
use waport::source::{ReadOptions, open};

const ROWS: u64 = 20_000;

fn input(dir: &std::path::Path) -> String {
    let path = dir.join("contacts.csv");
    generate(GenerateConfig {
        rows: ROWS,
        output: path.clone(),
        seed: 7,
        utf8: false,
    })
    .expect("generate input");
    path.display().to_string()
}

fn read_and_map(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = input(dir.path());
    let mut g = c.benchmark_group("read_map");
    g.throughput(Throughput::Elements(ROWS));
    g.bench_function("cp1252_semicolon_csv", |b| {
        b.iter(|| {
            let src = open(&path, &ReadOptions::default()).expect("open");
            let mapping = Mapping::infer(&src.headers, None).expect("mapping");
            let mut n = 0usize;
            for rec in src.records {
                let rec = rec.expect("record");
                n += mapping.apply(&rec.fields).name.len();
            }
            black_box(n)
        })
    });
    g.finish();
}

fn whole_validate(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = input(dir.path());
    let report = dir.path().join("r.csv");
    let mut g = c.benchmark_group("validate");
    g.throughput(Throughput::Elements(ROWS));
    g.sample_size(10);
    g.bench_function("messy_16_countries", |b| {
        b.iter(|| {
            validate(ValidateConfig {
                input: path.clone(),
                report: Some(report.clone()),
                quiet: true,
                ..Default::default()
            })
            .expect("validate")
        })
    });
    g.finish();
}

criterion_group!(benches, read_and_map, whole_validate);
criterion_main!(benches);
