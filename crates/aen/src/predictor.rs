//! A fitted predictor: an ensemble of networks, each with a linear task head,
//! giving a mean and a standard deviation per architecture.

use crate::aen::{Aen, AenConfig};
use crate::bayesian_head::LinearHead;
use crate::encoded_batch::EncodedBatch;
use crate::error::{AenError, Result};
use crate::output_warp::OutputWarp;
use crate::weighted_head::WeightedHead;
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use metanas_space::GraphEncoding;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A predicted metric: ensemble mean and standard deviation, in the metric's units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Predicted value.
    pub mean: f64,
    /// Uncertainty: spread of the ensemble plus each member's own (Bayesian-head) variance.
    pub std: f64,
}

/// Mean and standard deviation used to standardise a task's values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Standardiser {
    /// Mean of the values.
    pub mean: f64,
    /// Standard deviation of the values (1 when they are constant).
    pub std: f64,
}

impl Standardiser {
    /// The standardiser of `values`.
    ///
    /// # Errors
    /// [`AenError::InvalidData`] when `values` is empty or holds a non-finite value.
    pub fn of(values: &[f64]) -> Result<Self> {
        if values.is_empty() {
            return Err(AenError::InvalidData("no values to standardise".into()));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(AenError::InvalidData(format!(
                "value {i} is not finite ({})",
                values[i]
            )));
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let std = if var > 1e-24 { var.sqrt() } else { 1.0 };
        Ok(Self { mean, std })
    }

    /// `(v − mean) / std`.
    pub fn apply(&self, v: f64) -> f64 {
        (v - self.mean) / self.std
    }
}

/// Graph features of a batch, once per ensemble member: score many heads
/// against them without running the GCN again ([`AenPredictor::predict_features`]).
#[derive(Debug, Clone)]
pub struct FeatureCache {
    /// `[cells, features]` per member.
    pub features: Vec<Tensor<2>>,
}

impl FeatureCache {
    /// Number of cells.
    pub fn len(&self) -> usize {
        self.features.first().map_or(0, |f| f.dims()[0])
    }

    /// Whether it holds no cell.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows `indices` of every member's features.
    ///
    /// # Errors
    /// [`AenError::InvalidData`] for an index out of range.
    pub fn select(&self, indices: &[usize]) -> Result<Self> {
        let n = self.len();
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            return Err(AenError::InvalidData(format!(
                "row {bad} of a cache of {n}"
            )));
        }
        let ids: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let features = self
            .features
            .iter()
            .map(|f| {
                let ids = Tensor::<1, burn::tensor::Int>::from_data(
                    TensorData::new(ids.clone(), [ids.len()]),
                    &f.device(),
                );
                f.clone().select(0, ids)
            })
            .collect();
        Ok(Self { features })
    }

    /// Width of each member's features.
    pub fn width(&self) -> usize {
        self.features.first().map_or(0, |f| f.dims()[1])
    }

    /// The same features with `side` appended to every member's: known
    /// per-cell values such as the source tasks' metrics (`len() × columns`,
    /// row-major; best standardised per column).
    ///
    /// # Errors
    /// [`AenError::InvalidData`] when `side` is not `len() × columns` or holds a non-finite value.
    pub fn with_side_features(&self, side: &[f64], columns: usize) -> Result<Self> {
        let n = self.len();
        if side.len() != n * columns {
            return Err(AenError::InvalidData(format!(
                "{} side values for {n} cells × {columns} columns",
                side.len()
            )));
        }
        if side.iter().any(|v| !v.is_finite()) {
            return Err(AenError::InvalidData("side features must be finite".into()));
        }
        let values: Vec<f32> = side.iter().map(|&v| v as f32).collect();
        let features = self
            .features
            .iter()
            .map(|f| {
                let extra = Tensor::<2>::from_data(
                    TensorData::new(values.clone(), [n, columns]),
                    &f.device(),
                );
                Tensor::cat(vec![f.clone(), extra], 1)
            })
            .collect();
        Ok(Self { features })
    }
}

/// Features of `batch` for every member.
pub(crate) fn features_of(members: &[Aen], batch: &EncodedBatch) -> FeatureCache {
    FeatureCache {
        features: members.iter().map(|m| m.forward_features(batch)).collect(),
    }
}

/// An ensemble of fitted networks with their task heads (from [`crate::fit`] or
/// [`crate::MetaAen::adapt`]): a weighted mixture of heads, each reading one
/// member's features (one head per member with equal weights for a plain
/// ensemble).
#[derive(Debug, Clone)]
pub struct AenPredictor {
    config: AenConfig,
    members: Vec<Aen>,
    heads: Vec<WeightedHead>,
    target: Standardiser,
    warp: Option<OutputWarp>,
    device: Device,
}

const PREDICTOR_JSON: &str = "predictor.json";

#[derive(Serialize, Deserialize)]
struct PredictorFile {
    model: AenConfig,
    heads: Vec<LinearHead>,
    target: Standardiser,
    /// Member and weight of each head; absent: head `i` reads member `i`, equal weights.
    #[serde(default)]
    mixture: Vec<(usize, f64)>,
    /// The heads predict normal scores of the metric, mapped back by this warp.
    #[serde(default)]
    warp: Option<OutputWarp>,
    /// Ensemble members saved (absent: one per head, or as many as the mixture names).
    #[serde(default)]
    members: Option<usize>,
}

pub(crate) fn member_file(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("member_{i}.bpk"))
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> AenError + '_ {
    move |source| AenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl AenPredictor {
    /// A predictor of `members` (inference networks on `device`) with one head each, equal weights.
    ///
    /// # Errors
    /// As [`Self::mixture`]; also when the numbers of members and heads differ.
    pub fn new(
        config: AenConfig,
        members: Vec<Aen>,
        heads: Vec<LinearHead>,
        target: Standardiser,
        device: &Device,
    ) -> Result<Self> {
        if members.len() != heads.len() {
            return Err(AenError::InvalidData(format!(
                "{} members, {} heads",
                members.len(),
                heads.len()
            )));
        }
        let weight = 1.0 / heads.len().max(1) as f64;
        let heads = heads
            .into_iter()
            .enumerate()
            .map(|(member, head)| WeightedHead {
                member,
                weight,
                head,
            })
            .collect();
        Self::mixture(config, members, heads, target, device)
    }

    /// A predictor whose heads are a weighted mixture (weights are normalised to sum to 1).
    ///
    /// # Errors
    /// [`AenError::InvalidData`] when there is no member or head, a head
    /// names a missing member, a weight is negative or not finite or all are
    /// zero, or the heads' widths differ or are below `features + 1` (a head
    /// wider than that also reads side features, see
    /// [`FeatureCache::with_side_features`]).
    pub fn mixture(
        config: AenConfig,
        members: Vec<Aen>,
        mut heads: Vec<WeightedHead>,
        target: Standardiser,
        device: &Device,
    ) -> Result<Self> {
        if members.is_empty() || heads.is_empty() {
            return Err(AenError::InvalidData(format!(
                "{} members, {} heads",
                members.len(),
                heads.len()
            )));
        }
        if let Some(h) = heads.iter().find(|h| h.member >= members.len()) {
            return Err(AenError::InvalidData(format!(
                "a head reads member {} of {}",
                h.member,
                members.len()
            )));
        }
        let total: f64 = heads.iter().map(|h| h.weight).sum();
        if heads
            .iter()
            .any(|h| !(h.weight.is_finite() && h.weight >= 0.0))
            || total.is_nan()
            || total <= 0.0
        {
            return Err(AenError::InvalidData(
                "mixture weights must be finite, non-negative and not all zero".into(),
            ));
        }
        heads.iter_mut().for_each(|h| h.weight /= total);
        let p = heads[0].head.mean.len();
        if p < config.features + 1
            || heads.iter().any(|h| {
                h.head.mean.len() != p
                    || h.head.covariance.as_ref().is_some_and(|c| c.len() != p * p)
            })
        {
            return Err(AenError::InvalidData(format!(
                "heads must all be {p} ≥ {} wide",
                config.features + 1
            )));
        }
        Ok(Self {
            config,
            members,
            heads,
            target,
            warp: None,
            device: device.clone(),
        })
    }

    /// The same predictor for heads that predict normal scores of the metric
    /// (after [`Self::new`]/[`Self::mixture`] with the identity standardiser):
    /// predictions are mapped back through `warp`, the std as half the
    /// width of the mapped ±1 std interval.
    pub fn with_output_warp(mut self, warp: OutputWarp) -> Self {
        self.warp = Some(warp);
        self
    }

    /// The network settings.
    pub fn config(&self) -> &AenConfig {
        &self.config
    }

    /// Ensemble size.
    pub fn ensemble_size(&self) -> usize {
        self.members.len()
    }

    /// The task heads with their members and weights.
    pub fn heads(&self) -> &[WeightedHead] {
        &self.heads
    }

    /// `encodings` as tensors on the predictor's device (build once, score many times).
    ///
    /// # Errors
    /// As [`EncodedBatch::new`].
    pub fn encode(&self, encodings: &[GraphEncoding]) -> Result<EncodedBatch> {
        EncodedBatch::new(
            encodings,
            self.config.vocabulary_size,
            self.config.propagation,
            &self.device,
        )
    }

    /// Mean and std of every cell.
    ///
    /// # Errors
    /// As [`EncodedBatch::new`] for malformed or empty `encodings`.
    pub fn predict(&self, encodings: &[GraphEncoding]) -> Result<Vec<Prediction>> {
        self.predict_batch(&self.encode(encodings)?)
    }

    /// Width of the heads' inputs: the body's features, plus side features if any.
    pub fn input_width(&self) -> usize {
        self.heads
            .first()
            .map_or(self.config.features, |h| h.head.mean.len() - 1)
    }

    /// Mean and std of every cell of a pre-built batch (the fast path).
    ///
    /// # Errors
    /// [`AenError::InvalidData`] when the batch was built for another
    /// propagation, or the heads also read side features (use
    /// [`Self::predict_features`] with them).
    pub fn predict_batch(&self, batch: &EncodedBatch) -> Result<Vec<Prediction>> {
        if batch.propagation != self.config.propagation {
            return Err(AenError::InvalidData(
                "the batch was built for another propagation".into(),
            ));
        }
        self.predict_features(&self.features(batch))
    }

    /// The members' graph features of `batch` (reusable by every head on the same bodies).
    pub fn features(&self, batch: &EncodedBatch) -> FeatureCache {
        features_of(&self.members, batch)
    }

    /// Mean and std from cached features of the same bodies (with the side
    /// features the heads were fitted on, if any).
    ///
    /// # Errors
    /// [`AenError::InvalidData`] when the cache has another number of members or width.
    pub fn predict_features(&self, cache: &FeatureCache) -> Result<Vec<Prediction>> {
        let width = self.input_width();
        if cache.features.len() != self.members.len()
            || cache.features.iter().any(|f| f.dims()[1] != width)
        {
            return Err(AenError::InvalidData(format!(
                "feature cache of other bodies or side features (heads read {width} features)"
            )));
        }
        let n = cache.len();
        let p = width + 1;
        let mut inputs: Vec<Option<Tensor<2>>> = vec![None; self.members.len()];
        let mut means = vec![0.0f64; n];
        let mut second = vec![0.0f64; n];
        for WeightedHead {
            member,
            weight,
            head,
        } in &self.heads
        {
            let x = inputs[*member]
                .get_or_insert_with(|| {
                    let features = &cache.features[*member];
                    let ones = Tensor::<2>::ones([n, 1], &features.device());
                    Tensor::cat(vec![features.clone(), ones], 1) // [n, p]
                })
                .clone();
            let (mean, variance) = head_moments(x, head, p)?;
            for i in 0..n {
                let m = f64::from(mean[i]);
                let v = f64::from(variance.get(i).copied().unwrap_or(0.0)).max(0.0)
                    + head.noise_variance;
                means[i] += weight * m;
                second[i] += weight * (v + m * m);
            }
        }
        Ok(means
            .into_iter()
            .zip(second)
            .map(|(mean, q)| {
                let (mean, std) = (
                    mean * self.target.std + self.target.mean,
                    (q - mean * mean).max(0.0).sqrt() * self.target.std,
                );
                match &self.warp {
                    None => Prediction { mean, std },
                    Some(warp) => Prediction {
                        mean: warp.inverse(mean),
                        std: (warp.inverse(mean + std) - warp.inverse(mean - std)) / 2.0,
                    },
                }
            })
            .collect())
    }

    /// Writes `dir/predictor.json` (settings, heads, standardiser) and
    /// `dir/member_<i>.bpk` (Burn records), creating `dir`.
    ///
    /// # Errors
    /// [`AenError::Io`], [`AenError::Json`] or [`AenError::Record`] naming the file.
    pub fn save(&self, dir: &Path) -> Result<()> {
        save_members(dir, &self.members)?;
        let file = PredictorFile {
            model: self.config.clone(),
            heads: self.heads.iter().map(|h| h.head.clone()).collect(),
            target: self.target,
            mixture: self.heads.iter().map(|h| (h.member, h.weight)).collect(),
            warp: self.warp.clone(),
            members: Some(self.members.len()),
        };
        write_json(&dir.join(PREDICTOR_JSON), &file)
    }

    /// Reads a folder written by [`Self::save`] onto `device` (an inference device).
    ///
    /// # Errors
    /// [`AenError::Io`], [`AenError::Json`] or [`AenError::Record`] naming the
    /// file; [`AenError::InvalidData`] for a mixture that does not match its heads.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let path = dir.join(PREDICTOR_JSON);
        let file: PredictorFile = read_json(&path)?;
        // Files without a mixture hold one head per member, equal weights.
        let mixture = if file.mixture.is_empty() {
            (0..file.heads.len()).map(|i| (i, 1.0)).collect()
        } else {
            file.mixture
        };
        if mixture.len() != file.heads.len() {
            return Err(AenError::InvalidData(format!(
                "{}: {} mixture entries for {} heads",
                path.display(),
                mixture.len(),
                file.heads.len()
            )));
        }
        let named = mixture.iter().map(|(m, _)| m + 1).max().unwrap_or(0);
        let count = file.members.unwrap_or(named).max(named);
        let members = load_members(dir, &file.model, count, device)?;
        let heads = file
            .heads
            .into_iter()
            .zip(mixture)
            .map(|(head, (member, weight))| WeightedHead {
                member,
                weight,
                head,
            })
            .collect();
        Ok(Self {
            warp: file.warp,
            ..Self::mixture(file.model, members, heads, file.target, device)?
        })
    }
}

/// Mean and variance (without the noise) of `head` on the rows of `x`
/// (`[n, p]`, bias column last). A head that reads only some inputs (zero
/// mean and variance elsewhere) is evaluated on those columns alone.
fn head_moments(x: Tensor<2>, head: &LinearHead, p: usize) -> Result<(Vec<f32>, Vec<f32>)> {
    let used: Vec<usize> = (0..p)
        .filter(|&i| {
            head.mean[i] != 0.0
                || head
                    .covariance
                    .as_ref()
                    .is_some_and(|c| c[i * p + i] != 0.0)
        })
        .collect();
    let n = x.dims()[0];
    let device = x.device();
    if used.is_empty() {
        return Ok((vec![0.0; n], vec![0.0; n]));
    }
    let q = used.len();
    let x = if q == p {
        x
    } else {
        let ids: Vec<i64> = used.iter().map(|&i| i as i64).collect();
        x.select(
            1,
            Tensor::<1, burn::tensor::Int>::from_data(TensorData::new(ids, [q]), &device),
        )
    };
    let to_vec = |t: Tensor<2>| -> Result<Vec<f32>> {
        t.into_data()
            .try_to_vec()
            .map_err(|e| AenError::Numerical(format!("{e:?}")))
    };
    let w: Vec<f32> = used.iter().map(|&i| head.mean[i] as f32).collect();
    let mean = to_vec(
        x.clone()
            .matmul(Tensor::<2>::from_data(TensorData::new(w, [q, 1]), &device)),
    )?;
    let variance = match &head.covariance {
        Some(cov) => {
            let s: Vec<f32> = used
                .iter()
                .flat_map(|&i| used.iter().map(move |&j| cov[i * p + j] as f32))
                .collect();
            let s = Tensor::<2>::from_data(TensorData::new(s, [q, q]), &device);
            to_vec((x.clone().matmul(s) * x).sum_dim(1))?
        }
        None => vec![0.0; n],
    };
    Ok((mean, variance))
}

/// Writes each member to `dir/member_<i>.bpk`, creating `dir`.
pub(crate) fn save_members(dir: &Path, members: &[Aen]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    for (i, m) in members.iter().enumerate() {
        let path = member_file(dir, i);
        m.clone().save_file(&path).map_err(|e| AenError::Record {
            path: path.clone(),
            message: e.to_string(),
        })?;
    }
    Ok(())
}

pub(crate) fn load_members(
    dir: &Path,
    config: &AenConfig,
    count: usize,
    device: &Device,
) -> Result<Vec<Aen>> {
    (0..count)
        .map(|i| {
            let path = member_file(dir, i);
            metanas_seeding::unseeded(|| config.init(device))?
                .try_load_file(&path)
                .map_err(|e| AenError::Record {
                    path: path.clone(),
                    message: e.to_string(),
                })
        })
        .collect()
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let json = serde_json::to_string_pretty(value).map_err(|e| AenError::Json {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    std::fs::write(path, json).map_err(io_error(path))
}

pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    serde_json::from_str(&text).map_err(|e| AenError::Json {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
