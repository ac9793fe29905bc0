//! PNG line charts (best-so-far curves, learning curves) with plotters, as
//! `cargo xtask search`, `meta-train` and the benchmark harnesses draw them.

use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// No series has a finite point.
    #[error("no finite points to plot for {0}")]
    NothingToPlot(PathBuf),
    /// The drawing library failed.
    #[error("drawing {path}: {message}")]
    Drawing {
        /// The chart's file.
        path: PathBuf,
        /// plotters' message.
        message: String,
    },
    /// The PNG could not be written.
    #[error("writing {path}: {source}")]
    Write {
        /// The chart's file.
        path: PathBuf,
        /// The encoder's or file system's error.
        source: image::ImageError,
    },
}

/// A named series of `(x, y)` points.
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points in x order.
    pub points: Vec<(f64, f64)>,
}

const WIDTH: u32 = 900;
const HEIGHT: u32 = 560;

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // DejaVu Sans (Bitstream Vera licence, see assets/DejaVuSans-LICENSE.txt).
        let font: &'static [u8] = include_bytes!("../assets/DejaVuSans.ttf");
        // A font that fails to register only costs the labels.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, font);
    });
}

/// Draws `series` as lines and writes a PNG to `path`.
///
/// # Errors
/// When there is nothing to draw or the file cannot be written.
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), PlotError> {
    register_font();
    let drawing = |e: &dyn std::fmt::Display| PlotError::Drawing {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let points = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return Err(PlotError::NothingToPlot(path.to_path_buf()));
    }
    let pad = ((y1 - y0) * 0.05).max(1e-6);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| drawing(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(65)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| drawing(&e))?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| drawing(&e))?;
        for (i, s) in series.iter().enumerate() {
            let colour = Palette99::pick(i).to_rgba();
            let line = s
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite());
            chart
                .draw_series(LineSeries::new(line, colour.stroke_width(2)))
                .map_err(|e| drawing(&e))?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(|e| drawing(&e))?;
        root.present().map_err(|e| drawing(&e))?;
    }
    image::save_buffer(path, &pixels, WIDTH, HEIGHT, image::ColorType::Rgb8).map_err(|source| {
        PlotError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_png_and_refuses_an_empty_chart() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("curve.png");
        let series = [Series {
            name: "best so far".into(),
            points: vec![(1.0, 0.5), (2.0, 0.7), (3.0, f64::NAN), (4.0, 0.9)],
        }];
        line_chart(&path, "title", "x", "y", &series).expect("chart");
        let png = std::fs::read(&path).expect("png written");
        assert_eq!(&png[1..4], b"PNG");

        let empty = [Series {
            name: "nothing".into(),
            points: vec![(1.0, f64::NAN)],
        }];
        let err = line_chart(&dir.path().join("empty.png"), "t", "x", "y", &empty)
            .expect_err("no finite point");
        assert!(matches!(err, PlotError::NothingToPlot(_)), "{err}");
        assert!(!dir.path().join("empty.png").exists());
    }
}
