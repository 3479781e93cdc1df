//! Criterion benchmarks of the validate half of the pipeline: CSV read +
//! map, and the whole validate run (read → map → normalize → dedupe →
//! report) on a generated messy file, from disk and from memory.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use waport::commands::generate::{GenerateConfig, run as generate};
use waport::commands::validate::{RowsConfig, ValidateConfig, check, run as validate};
use waport::mapping::Mapping;
use waport::pipeline::PrepareOptions;
use waport::report::{CsvStyle, ReportOptions, ReportWriter};
use waport::source::{ReadOptions, open, open_reader};

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
                rows: RowsConfig {
                    input: path.clone(),
                    report: Some(report.clone()),
                    quiet: true,
                    ..Default::default()
                },
                ..Default::default()
            })
            .expect("validate")
        })
    });
    g.finish();
}

/// The pipeline alone: the file's bytes already in memory, the report
/// thrown away, so only reading, mapping, normalizing, deduplicating and
/// encoding the report are timed.
fn in_memory_validate(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let bytes = std::fs::read(input(dir.path())).expect("read input");
    let mut g = c.benchmark_group("validate");
    g.throughput(Throughput::Elements(ROWS));
    g.sample_size(10);
    // A real file, not /dev/null: the report is renamed into place, and
    // the bench runs on every OS.
    let report = dir.path().join("r.csv");
    g.bench_function("in_memory_pipeline", |b| {
        b.iter(|| {
            let input = Box::new(std::io::Cursor::new(bytes.clone()));
            let src = open_reader("contacts.csv", input, &ReadOptions::default()).expect("open");
            let mapping = Mapping::infer(&src.headers, None).expect("mapping");
            let mut writer = ReportWriter::create(
                ReportOptions {
                    report: report.clone(),
                    rejects: None,
                    report_style: CsvStyle::PLAIN,
                    rejects_style: CsvStyle::PLAIN,
                    remote_id: false,
                },
                &src.headers,
            )
            .expect("report");
            let cut = check(src, mapping, &PrepareOptions::default(), &mut writer).expect("check");
            assert!(cut.is_none());
            black_box(writer.finish().expect("finish").rows)
        })
    });
    g.finish();
}

criterion_group!(benches, read_and_map, whole_validate, in_memory_validate);
criterion_main!(benches);
