//! SVG charts (plotters, SVG backend only): latency percentiles at the
//! fixed load, delivered vs offered frames/s, memory per idle socket.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use crate::report::{Report, SystemRun};

const VROOM: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const PEER: RGBColor = RGBColor(0xd6, 0x27, 0x28);

fn color(run: &SystemRun) -> RGBColor {
    match run.system {
        crate::conn::System::Vroom => VROOM,
        crate::conn::System::Peer => PEER,
    }
}

fn runs(report: &Report) -> Vec<&SystemRun> {
    std::iter::once(&report.vroom)
        .chain(report.peer.as_ref())
        .collect()
}

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("chart: {e}")
}

/// One system's series: a labelled line through `points`, a dot on each.
fn line_with_dots<X, Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<X, Y>>,
    run: &SystemRun,
    points: &[(f64, f64)],
) -> Result<()>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let c = color(run);
    chart
        .draw_series(LineSeries::new(points.to_vec(), c.stroke_width(2)))
        .map_err(err)?
        .label(run.system.label())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
    chart
        .draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled())))
        .map_err(err)?;
    Ok(())
}

/// Draws the legend at `position` and writes the file.
fn finish<'a, X, Y>(
    root: &DrawingArea<SVGBackend<'a>, plotters::coord::Shift>,
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> Result<()>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(position)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// Writes `latency.svg`, `throughput.svg` and `memory.svg` into `dir`.
pub fn write_all(report: &Report, dir: &Path) -> Result<()> {
    latency(report, &dir.join("latency.svg"))?;
    throughput(report, &dir.join("throughput.svg"))?;
    memory(report, &dir.join("memory.svg"))?;
    Ok(())
}

fn latency(report: &Report, path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, (760, 440)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut top: f64 = 1.0;
    for run in runs(report) {
        if let Some(f) = &run.fixed {
            top = top.max(f.step.latency.max_ms);
        }
    }
    let load = report
        .vroom
        .fixed
        .as_ref()
        .map_or(0.0, |f| f.step.offered_per_s);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Latency at {load:.0} deliveries/s (ms, log scale)"),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..3.5f64, (0.01f64..top * 2.0).log_scale())
        .map_err(err)?;
    let names = ["p50", "p90", "p99", "max"];
    chart
        .configure_mesh()
        .x_labels(4)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 0.01 && (0.0..4.0).contains(&i) {
                names[i as usize].to_string()
            } else {
                String::new()
            }
        })
        .y_desc("ms")
        .draw()
        .map_err(err)?;
    for run in runs(report) {
        let Some(fixed) = &run.fixed else { continue };
        let l = &fixed.step.latency;
        let points: Vec<(f64, f64)> = [l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms]
            .iter()
            .enumerate()
            .map(|(i, v)| (i as f64, v.max(0.01)))
            .collect();
        line_with_dots(&mut chart, run, &points)?;
    }
    finish(&root, &mut chart, SeriesLabelPosition::UpperLeft)
}

fn throughput(report: &Report, path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, (760, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut top: f64 = 1000.0;
    for run in runs(report) {
        for f in &run.fanout {
            for s in &f.steps {
                top = top.max(s.offered_per_s).max(s.delivered_per_s);
            }
        }
    }
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Delivered vs offered frames/s (log-log; dashed: delivered = offered)",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (500f64..top * 1.5).log_scale(),
            (500f64..top * 1.5).log_scale(),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("offered deliveries/s")
        .y_desc("delivered/s")
        .x_label_formatter(&|v| crate::report::num(*v))
        .y_label_formatter(&|v| crate::report::num(*v))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(500.0, 500.0), (top * 1.5, top * 1.5)],
            6,
            4,
            BLACK.mix(0.4).stroke_width(1),
        ))
        .map_err(err)?;
    for run in runs(report) {
        let c = color(run);
        for (n, f) in run.fanout.iter().enumerate() {
            let mut steps: Vec<&crate::fanout::Step> = f.steps.iter().collect();
            steps.sort_by(|a, b| a.offered_per_s.total_cmp(&b.offered_per_s));
            let points: Vec<(f64, f64)> = steps
                .iter()
                .map(|s| (s.offered_per_s.max(500.0), s.delivered_per_s.max(500.0)))
                .collect();
            let style = if n == 0 {
                c.stroke_width(2)
            } else {
                c.mix(0.55).stroke_width(2)
            };
            chart
                .draw_series(LineSeries::new(points.clone(), style))
                .map_err(err)?
                .label(format!("{} {}×{}", run.system.label(), f.rooms, f.members))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            chart
                .draw_series(points.iter().zip(&steps).map(|(&p, s)| {
                    if s.sustained {
                        Circle::new(p, 4, c.filled())
                    } else {
                        Circle::new(p, 4, c.stroke_width(1))
                    }
                }))
                .map_err(err)?;
        }
    }
    finish(&root, &mut chart, SeriesLabelPosition::UpperLeft)
}

fn memory(report: &Report, path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, (760, 440)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut top_x: f64 = 1000.0;
    let mut top_y: f64 = 1.0;
    for run in runs(report) {
        for p in &run.idle {
            top_x = top_x.max(p.sockets as f64);
            top_y = top_y.max(p.bytes_per_socket / 1024.0);
        }
    }
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Resident memory per idle socket (KiB, both nodes)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..top_x * 1.05, 0f64..top_y * 1.2)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("idle sockets")
        .y_desc("KiB per socket")
        .draw()
        .map_err(err)?;
    for run in runs(report) {
        let points: Vec<(f64, f64)> = run
            .idle
            .iter()
            .map(|p| (p.sockets as f64, p.bytes_per_socket / 1024.0))
            .collect();
        line_with_dots(&mut chart, run, &points)?;
    }
    finish(&root, &mut chart, SeriesLabelPosition::UpperRight)
}
