//! Meta-training across tasks and few-shot adaptation to a new one.

use crate::aen::{Aen, AenConfig};
use crate::bayesian_head::{
    HeadFit, HeadPrior, LinearHead, PriorKind, fit_head, fit_head_with_evidence,
};
use crate::encoded_batch::EncodedBatch;
use crate::error::AenError;
use crate::fit::unzip_observations;
use crate::output_warp::OutputWarp;
use crate::predictor::{
    AenPredictor, FeatureCache, Standardiser, features_of, load_members, read_json, save_members,
    write_json,
};
use crate::side_model::{RelatedSourcePriors, SideModel, SourceSlopePrior, component_prior};
use crate::training::{TrainingConfig, TrainingReport, train_ensemble};
use crate::weighted_head::{WeightedHead, family_evidence, model_probabilities};
use burn::config::Config;
use burn::tensor::Device;
use metanas_space::GraphEncoding;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One source task: a value for every cell given to [`MetaAen::meta_train`].
#[derive(Debug, Clone, PartialEq)]
pub struct TaskValues {
    /// The task's name (a benchmark column).
    pub name: String,
    /// The metric of each cell, in the cells' order.
    pub values: Vec<f64>,
}

/// Settings of [`MetaAen::meta_train`].
#[derive(Config, Debug)]
pub struct MetaAenConfig {
    /// The shared body (its `outputs` becomes the number of source tasks).
    pub model: AenConfig,
    /// The multi-task fitting loop.
    #[config(
        default = "TrainingConfig::new().with_batch_size(256).with_max_epochs(30).with_patience(4).with_validation_fraction(0.1)"
    )]
    pub training: TrainingConfig,
    /// Ensemble members (bodies of different seeds).
    #[config(default = 5)]
    pub ensemble: usize,
    /// Prior of a new task's head.
    #[config(default = "PriorKind::SourceHeads")]
    pub prior: PriorKind,
}

/// A meta-trained AEN: an ensemble of shared GCN bodies trained jointly on
/// every source task (a linear head per task, the task embedding), and for
/// each body the Gaussian prior over task heads that the source heads define.
/// [`MetaAen::adapt`] infers a new task's head in closed form.
#[derive(Debug, Clone)]
pub struct MetaAen {
    config: MetaAenConfig,
    task_names: Vec<String>,
    members: Vec<Aen>,
    priors: Vec<HeadPrior>,
    side_priors: Vec<HeadPrior>,
    side_model: SideModel,
    slope_prior: SourceSlopePrior,
    /// Set by [`Self::conditioned_on`] with side features: the single-source
    /// models' priors after the related task.
    related_sources: Option<RelatedSourcePriors>,
    reports: Vec<TrainingReport>,
    device: Device,
}

const META_JSON: &str = "config.json";
const STATE_JSON: &str = "state.json";

#[derive(Serialize, Deserialize)]
struct MetaFile {
    config: MetaAenConfig,
    task_names: Vec<String>,
}

/// Everything beyond the settings and the bodies that adaptation reads (the
/// head priors, which [`MetaAen::conditioned_on`] may have replaced, the side
/// model, the slope prior and the related task's single-source priors) and
/// the training reports. Folders written before it existed lack it: their
/// priors come from the bodies and the rest takes its default.
#[derive(Serialize, Deserialize)]
struct StateFile {
    priors: Vec<HeadPrior>,
    side_priors: Vec<HeadPrior>,
    side_model: SideModel,
    slope_prior: SourceSlopePrior,
    related_sources: Option<RelatedSourcePriors>,
    reports: Vec<TrainingReport>,
}

impl StateFile {
    /// Checks the sizes against the model they belong to (a damaged or
    /// foreign file must not reach the solvers' indexing).
    fn check(
        &self,
        members: usize,
        features: usize,
        tasks: usize,
        path: &Path,
    ) -> crate::error::Result<()> {
        let square = |p: &HeadPrior, width: usize| {
            p.mean.len() == width && p.covariance.len() == width * width
        };
        let problem = if self.priors.len() != members || self.side_priors.len() != members {
            Some(format!(
                "{} body priors and {} side priors for {members} members",
                self.priors.len(),
                self.side_priors.len()
            ))
        } else if !self.priors.iter().all(|p| square(p, features + 1))
            || !self
                .side_priors
                .iter()
                .all(|p| square(p, features + tasks + 1))
        {
            Some(format!(
                "priors not {} (body) or {} (body and {tasks} sources) wide",
                features + 1,
                features + tasks + 1
            ))
        } else {
            self.related_sources.as_ref().and_then(|r| {
                (r.priors.len() != tasks
                    || r.weights.len() != tasks
                    || !r.priors.iter().all(|p| square(p, features + tasks + 1)))
                .then(|| {
                    format!(
                        "related-task priors for {} sources with {} weights, {tasks} expected",
                        r.priors.len(),
                        r.weights.len()
                    )
                })
            })
        };
        match problem {
            Some(problem) => Err(AenError::InvalidData(format!(
                "{}: {problem}",
                path.display()
            ))),
            None => Ok(()),
        }
    }
}

/// A posterior head's weight covariance times `inflation` (zeros without
/// one), the start of a prior for a related task.
fn inflated_covariance(head: &LinearHead, inflation: f64) -> Vec<f64> {
    let p = head.mean.len();
    match &head.covariance {
        Some(c) => c.iter().map(|v| v * inflation).collect(),
        None => vec![0.0; p * p],
    }
}

/// Each source task's head `(w_t, b_t)` of `member`.
fn source_heads(member: &Aen) -> Vec<Vec<f64>> {
    let (w, b) = member.head_parameters(); // w: [features][tasks] row-major
    let tasks = b.len();
    let features = w.len() / tasks.max(1);
    (0..tasks)
        .map(|t| {
            (0..features)
                .map(|f| w[f * tasks + t])
                .chain(std::iter::once(b[t]))
                .collect()
        })
        .collect()
}

fn priors_of(members: &[Aen], kind: PriorKind) -> crate::error::Result<Vec<HeadPrior>> {
    members
        .iter()
        .map(|m| HeadPrior::from_heads(&source_heads(m), kind))
        .collect()
}

/// Priors over heads that read `[body features, source values, 1]`: the
/// source tasks are the exact heads that copy their own column (`[0, e_t, 0]`),
/// so under [`PriorKind::SourceMean`] a new task starts as the average of the
/// known source metrics. The body's features keep the ridge's variance only:
/// observations of the new task can still weigh them in. The learned heads
/// `[w_t, 0, b_t]` stay out: they would mix the body's imprecise predictions of
/// the sources into the prior mean (`docs/decisions/0004-*`).
fn side_priors_of(members: &[Aen], kind: PriorKind) -> crate::error::Result<Vec<HeadPrior>> {
    members
        .iter()
        .map(|m| {
            let (w, b) = m.head_parameters();
            let tasks = b.len();
            let features = w.len() / tasks.max(1);
            let heads: Vec<Vec<f64>> = (0..tasks)
                .map(|t| {
                    let mut exact = vec![0.0; features + tasks + 1];
                    exact[features + t] = 1.0;
                    exact
                })
                .collect();
            HeadPrior::from_heads(&heads, kind)
        })
        .collect()
}

impl MetaAen {
    /// Trains `config.ensemble` bodies on all `tasks` at once (values
    /// standardised per task), on `device.autodiff()`; the result lives on
    /// `device` without autodiff.
    ///
    /// # Errors
    /// [`AenError::InvalidData`] when there is no task, a task's length is not
    /// the number of cells, or a value is not finite; the errors of the
    /// encodings and the settings.
    pub fn meta_train(
        encodings: &[GraphEncoding],
        tasks: &[TaskValues],
        config: &MetaAenConfig,
        device: &Device,
    ) -> crate::error::Result<Self> {
        if tasks.is_empty() {
            return Err(AenError::InvalidData(
                "meta-training needs at least one task".into(),
            ));
        }
        if config.ensemble == 0 {
            return Err(AenError::InvalidConfig(
                "ensemble must be at least 1".into(),
            ));
        }
        config.training.check()?;
        let n = encodings.len();
        let t = tasks.len();
        let mut targets = vec![0.0f32; n * t];
        for (j, task) in tasks.iter().enumerate() {
            if task.values.len() != n {
                return Err(AenError::InvalidData(format!(
                    "task `{}` has {} values for {n} cells",
                    task.name,
                    task.values.len()
                )));
            }
            let s = Standardiser::of(&task.values)
                .map_err(|e| AenError::InvalidData(format!("task `{}`: {e}", task.name)))?;
            for (i, v) in task.values.iter().enumerate() {
                targets[i * t + j] = s.apply(*v) as f32;
            }
        }
        let model = config.model.clone().with_outputs(t);
        model.check()?;
        let inference = device.clone().without_autodiff();
        let training_device = inference.clone().autodiff();
        let batch = EncodedBatch::new(
            encodings,
            model.vocabulary_size,
            model.propagation,
            &training_device,
        )?;
        let trained = train_ensemble(
            &model,
            config.ensemble,
            &batch,
            &targets,
            t,
            &config.training,
            &training_device,
        )?;
        let (members, reports): (Vec<Aen>, Vec<TrainingReport>) = trained.into_iter().unzip();
        let priors = priors_of(&members, config.prior)?;
        let side_priors = side_priors_of(&members, config.prior)?;
        Ok(Self {
            config: MetaAenConfig {
                model,
                ..config.clone()
            },
            task_names: tasks.iter().map(|t| t.name.clone()).collect(),
            members,
            priors,
            side_priors,
            side_model: SideModel::default(),
            slope_prior: SourceSlopePrior::default(),
            related_sources: None,
            reports,
            device: inference,
        })
    }

    /// The settings it was trained with (`model.outputs` = number of source tasks).
    pub fn config(&self) -> &MetaAenConfig {
        &self.config
    }

    /// The source tasks, in head order.
    pub fn task_names(&self) -> &[String] {
        &self.task_names
    }

    /// What each member's training did (empty after [`Self::load`] of a
    /// folder written before the reports were saved).
    pub fn reports(&self) -> &[TrainingReport] {
        &self.reports
    }

    /// The same bodies with another head prior.
    ///
    /// # Errors
    /// As [`HeadPrior::from_heads`].
    pub fn with_prior(mut self, kind: PriorKind) -> crate::error::Result<Self> {
        self.priors = priors_of(&self.members, kind)?;
        self.side_priors = side_priors_of(&self.members, kind)?;
        self.config.prior = kind;
        Ok(self)
    }

    /// The same meta-model using side features as `side_model` says.
    pub fn with_side_model(mut self, side_model: SideModel) -> Self {
        self.side_model = side_model;
        self
    }

    /// The same meta-model with the prior over a single source's weight
    /// (learn it with [`SourceSlopePrior::from_source_values`] from the
    /// source values of the whole table; the default is vague).
    pub fn with_slope_prior(mut self, slope_prior: SourceSlopePrior) -> Self {
        self.slope_prior = slope_prior;
        self
    }

    /// How side features are used.
    pub fn side_model(&self) -> SideModel {
        self.side_model
    }

    /// `encodings` as tensors for these bodies.
    ///
    /// # Errors
    /// As [`EncodedBatch::new`].
    pub fn encode(&self, encodings: &[GraphEncoding]) -> crate::error::Result<EncodedBatch> {
        let m = &self.config.model;
        EncodedBatch::new(encodings, m.vocabulary_size, m.propagation, &self.device)
    }

    /// Graph features of `batch` for every body: every predictor [`Self::adapt`]
    /// returns scores them with [`AenPredictor::predict_features`], no GCN pass needed.
    pub fn features(&self, batch: &EncodedBatch) -> FeatureCache {
        features_of(&self.members, batch)
    }

    /// A predictor for a new task from a few `observations`: per body, the
    /// task head's posterior given the prior of the source heads (closed form),
    /// prior scale and noise by marginal likelihood.
    ///
    /// # Errors
    /// [`AenError::InvalidData`] for no observation or a non-finite value;
    /// [`AenError::Encoding`] for malformed encodings.
    pub fn adapt(
        &self,
        observations: &[(GraphEncoding, f64)],
    ) -> crate::error::Result<AenPredictor> {
        let (encodings, values) = unzip_observations(observations)?;
        let cache = self.features(&self.encode(&encodings)?);
        self.adapt_features(&cache, &values)
    }

    /// The priors for heads reading `width` inputs: the body's features, or
    /// the body's features followed by the source tasks' values.
    fn priors_for(&self, width: usize) -> crate::error::Result<&[HeadPrior]> {
        let features = self.config.model.features;
        if width == features {
            Ok(&self.priors)
        } else if width == features + self.task_names.len() {
            Ok(&self.side_priors)
        } else {
            Err(AenError::InvalidData(format!(
                "features of width {width}: expected {features} (body) or {} (body + the {} source tasks' values)",
                features + self.task_names.len(),
                self.task_names.len()
            )))
        }
    }

    /// The predictor before any observation: every member's head is its
    /// prior (the average source task under [`PriorKind::SourceMean`]),
    /// in standardised units. With `with_sources`, the heads also read the
    /// source tasks' values as side features (see [`Self::adapt_features`]).
    ///
    /// # Errors
    /// As [`AenPredictor::new`].
    pub fn prior_predictor(&self, with_sources: bool) -> crate::error::Result<AenPredictor> {
        let features = self.config.model.features;
        let tasks = self.task_names.len();
        let width = features + if with_sources { tasks } else { 0 };
        let target = Standardiser {
            mean: 0.0,
            std: 1.0,
        };
        let as_head = |p: &HeadPrior| LinearHead {
            mean: p.mean.clone(),
            covariance: Some(p.covariance.clone()),
            noise_variance: 0.0,
        };
        if with_sources && self.side_model != SideModel::Joint {
            // Every single-source model at its prior, equally likely (the
            // average source) unless a related task weighed them; they read
            // no body feature: one member is enough.
            let heads = (0..tasks)
                .map(|s| WeightedHead {
                    member: 0,
                    weight: self.single_source_weight(s),
                    head: as_head(&self.single_source_prior(s)),
                })
                .filter(|h| h.weight > 0.0)
                .collect();
            return AenPredictor::mixture(
                self.config.model.clone(),
                self.members.clone(),
                heads,
                target,
                &self.device,
            );
        }
        let heads = self.priors_for(width)?.iter().map(as_head).collect();
        AenPredictor::new(
            self.config.model.clone(),
            self.members.clone(),
            heads,
            target,
            &self.device,
        )
    }

    /// [`Self::adapt`] on cached features of the observed cells.
    ///
    /// The cache may carry side features ([`FeatureCache::with_side_features`]):
    /// the source tasks' values of each cell, as normal scores per task
    /// ([`crate::normal_scores`]; standardised values work too), in
    /// [`Self::task_names`] order (looked up in the benchmark the meta-model
    /// was trained on). The heads then read them too, as [`Self::side_model`]
    /// says: by default a Bayesian model average of single-source models
    /// ([`SideModel::SingleSources`]).
    ///
    /// # Errors
    /// [`AenError::InvalidData`] when the numbers of cells and values differ,
    /// the width is neither of the two above, or a value is not finite.
    pub fn adapt_features(
        &self,
        observed: &FeatureCache,
        values: &[f64],
    ) -> crate::error::Result<AenPredictor> {
        let with_sources = observed.width() != self.config.model.features;
        if with_sources && self.side_model != SideModel::Joint {
            self.adapt_source_mixture(observed, values)
        } else {
            self.adapt_joint(observed, values)
        }
    }

    /// The observations as design matrices of the first `members` members
    /// (`k × (width + 1)`, bias column last), after checking their sizes.
    fn design(
        &self,
        observed: &FeatureCache,
        values: &[f64],
        members: usize,
    ) -> crate::error::Result<Vec<Vec<f64>>> {
        if observed.features.len() != self.members.len() || observed.len() != values.len() {
            return Err(AenError::InvalidData(format!(
                "{} feature rows for {} values",
                observed.len(),
                values.len()
            )));
        }
        self.priors_for(observed.width())?;
        let width = observed.width();
        let mut designs = Vec::with_capacity(members);
        for features in observed.features.iter().take(members) {
            let f: Vec<f32> = features
                .to_data()
                .try_to_vec()
                .map_err(|e| AenError::Numerical(format!("{e:?}")))?;
            let mut phi = Vec::with_capacity(values.len() * (width + 1));
            for row in f.chunks(width) {
                phi.extend(row.iter().map(|&v| f64::from(v)));
                phi.push(1.0);
            }
            designs.push(phi);
        }
        Ok(designs)
    }

    /// One head per member over every input under the prior of its width.
    fn adapt_joint(
        &self,
        observed: &FeatureCache,
        values: &[f64],
    ) -> crate::error::Result<AenPredictor> {
        let designs = self.design(observed, values, self.members.len())?;
        let target = Standardiser::of(values)?;
        let y: Vec<f64> = values.iter().map(|&v| target.apply(v)).collect();
        let priors = self.priors_for(observed.width())?;
        let heads = designs
            .iter()
            .zip(priors)
            .map(|(phi, prior)| fit_head(phi, &y, prior))
            .collect::<crate::error::Result<Vec<_>>>()?;
        AenPredictor::new(
            self.config.model.clone(),
            self.members.clone(),
            heads,
            target,
            &self.device,
        )
    }

    /// [`SideModel::SingleSources`]: every single-source model, weighted by
    /// evidence ([`SideModel::SourcesAndBody`]: per member, also the body
    /// alone, the body with the best source and the joint head).
    ///
    /// The values are modelled either standardised or warped to their normal
    /// scores ([`OutputWarp`]: robust to a few broken cells among the
    /// observations); the transform whose models explain the values better
    /// (evidence plus the transform's log-Jacobian, averaged over members)
    /// is kept, and the predictor maps its predictions back.
    fn adapt_source_mixture(
        &self,
        observed: &FeatureCache,
        values: &[f64],
    ) -> crate::error::Result<AenPredictor> {
        let (fits, target, warp) = self.fit_source_mixture(observed, values)?;
        let share = 1.0 / fits.len() as f64;
        let mut heads = Vec::new();
        for (member, fits) in fits.into_iter().enumerate() {
            let evidences: Vec<f64> = fits.iter().map(|f| f.log_evidence).collect();
            for (i, probability) in model_probabilities(&evidences) {
                heads.push(WeightedHead {
                    member,
                    weight: share * probability,
                    head: fits[i].head.clone(),
                });
            }
        }
        let predictor = AenPredictor::mixture(
            self.config.model.clone(),
            self.members.clone(),
            heads,
            target,
            &self.device,
        )?;
        Ok(match warp {
            Some(warp) => predictor.with_output_warp(warp),
            None => predictor,
        })
    }

    /// The side model's components fitted to the values, standardised or
    /// warped to normal scores, whichever explains them better (see
    /// [`Self::adapt_source_mixture`]): the fits per member, the target's
    /// standardiser and the warp, if chosen.
    fn fit_source_mixture(
        &self,
        observed: &FeatureCache,
        values: &[f64],
    ) -> crate::error::Result<(Vec<Vec<HeadFit>>, Standardiser, Option<OutputWarp>)> {
        // Single-source models read no body feature: the first member's inputs serve them all.
        let members = if self.side_model == SideModel::SourcesAndBody {
            self.members.len()
        } else {
            1
        };
        let designs = self.design(observed, values, members)?;
        let standardiser = Standardiser::of(values)?;
        let standardised: Vec<f64> = values.iter().map(|&v| standardiser.apply(v)).collect();
        let (warp, scores) = OutputWarp::of(values)?;
        let linear = self.source_mixture_fits(&designs, &standardised)?;
        let warped = self.source_mixture_fits(&designs, &scores)?;
        let linear_evidence =
            family_evidence(&linear) - values.len() as f64 * standardiser.std.ln();
        let warped_evidence = family_evidence(&warped) + warp.log_jacobian(values);
        Ok(if warped_evidence > linear_evidence {
            (
                warped,
                Standardiser {
                    mean: 0.0,
                    std: 1.0,
                },
                Some(warp),
            )
        } else {
            (linear, standardiser, None)
        })
    }

    /// The prior of source `s`'s single-source model: after the related
    /// task if the meta-model was conditioned on one, else `a ~` the slope
    /// prior and `b ~ N(0, 1)`.
    fn single_source_prior(&self, s: usize) -> HeadPrior {
        match &self.related_sources {
            Some(related) => related.priors[s].clone(),
            None => component_prior(
                None,
                &[s],
                &self.slope_prior,
                self.config.model.features,
                self.task_names.len(),
            ),
        }
    }

    /// The prior probability of source `s`'s single-source model.
    fn single_source_weight(&self, s: usize) -> f64 {
        match &self.related_sources {
            Some(related) => related.weights[s],
            None => 1.0 / self.task_names.len() as f64,
        }
    }

    /// Every component model of the side model fitted to `y`, per member
    /// design (one design, read by the predictor from the first member's
    /// features, for the single-source models alone).
    fn source_mixture_fits(
        &self,
        designs: &[Vec<f64>],
        y: &[f64],
    ) -> crate::error::Result<Vec<Vec<HeadFit>>> {
        let features = self.config.model.features;
        let tasks = self.task_names.len();
        let with_body = self.side_model == SideModel::SourcesAndBody;
        designs
            .iter()
            .enumerate()
            .map(|(member, phi)| {
                // A model's prior probability enters as a shift of its evidence
                // (none under the uniform prior: ln(t · 1/t) = 0).
                let mut fits = (0..tasks)
                    .map(|s| {
                        let mut fit = fit_head_with_evidence(phi, y, &self.single_source_prior(s))?;
                        fit.log_evidence += (self.single_source_weight(s) * tasks as f64)
                            .max(1e-300)
                            .ln();
                        Ok(fit)
                    })
                    .collect::<crate::error::Result<Vec<_>>>()?;
                let best_source = (0..tasks)
                    .max_by(|&a, &b| fits[a].log_evidence.total_cmp(&fits[b].log_evidence));
                if with_body {
                    let body = &self.priors[member];
                    fits.push(fit_head_with_evidence(
                        phi,
                        y,
                        &component_prior(Some(body), &[], &self.slope_prior, features, tasks),
                    )?);
                    if let Some(s) = best_source {
                        fits.push(fit_head_with_evidence(
                            phi,
                            y,
                            &component_prior(Some(body), &[s], &self.slope_prior, features, tasks),
                        )?);
                    }
                    fits.push(fit_head_with_evidence(phi, y, &self.side_priors[member])?);
                }
                Ok(fits)
            })
            .collect()
    }

    /// The same meta-model with its head prior replaced by the posterior
    /// after `observed`/`values` of a *related* task (e.g. image tasks seen
    /// in meta-training when the new task is another image dataset): a new
    /// task is then expected to look like that one first. `inflation` (≥ 1)
    /// widens the posterior's covariance for the shift between the tasks.
    /// Applies to the prior of the cache's width. With side features under
    /// [`SideModel::SingleSources`] (the default), each single-source model
    /// starts from its posterior on the related task, and its prior
    /// probability is its posterior probability there mixed with the uniform
    /// (a share `1/inflation` for the related task); under the other side
    /// models the result uses [`SideModel::Joint`], whose prior this
    /// replaces. Without side features the body's head prior is replaced.
    ///
    /// # Errors
    /// As [`Self::adapt_features`]; [`AenError::InvalidConfig`] for `inflation` < 1.
    pub fn conditioned_on(
        &self,
        observed: &FeatureCache,
        values: &[f64],
        inflation: f64,
    ) -> crate::error::Result<Self> {
        if !(inflation.is_finite() && inflation >= 1.0) {
            return Err(AenError::InvalidConfig(format!(
                "inflation must be at least 1, got {inflation}"
            )));
        }
        let with_sources = observed.width() != self.config.model.features;
        if with_sources && self.side_model == SideModel::SingleSources {
            return self.conditioned_single_sources(observed, values, inflation);
        }
        let posterior = self.adapt_joint(observed, values)?;
        let priors: Vec<HeadPrior> = posterior
            .heads()
            .iter()
            .map(|WeightedHead { head: h, .. }| {
                let p = h.mean.len();
                let mut covariance = inflated_covariance(h, inflation);
                let trace = (0..p).map(|i| covariance[i * p + i]).sum::<f64>() / p as f64;
                for i in 0..p {
                    covariance[i * p + i] += 0.05 * trace.max(1e-6);
                }
                HeadPrior {
                    mean: h.mean.clone(),
                    covariance,
                }
            })
            .collect();
        let mut conditioned = self.clone();
        if observed.width() == self.config.model.features {
            conditioned.priors = priors;
        } else {
            conditioned.side_priors = priors;
            conditioned.side_model = SideModel::Joint;
        }
        Ok(conditioned)
    }

    /// [`Self::conditioned_on`] for the single-source model average.
    fn conditioned_single_sources(
        &self,
        observed: &FeatureCache,
        values: &[f64],
        inflation: f64,
    ) -> crate::error::Result<Self> {
        let (fits, _, _) = self.fit_source_mixture(observed, values)?;
        let Some(fits) = fits.first() else {
            return Err(AenError::InvalidData(
                "no ensemble member to condition".into(),
            ));
        };
        // A share 1/inflation of the prior mass follows the related task's
        // model probabilities, the rest is uniform: however sure the related
        // task was, the new task's observations can move to another source.
        let evidences: Vec<f64> = fits.iter().map(|f| f.log_evidence).collect();
        let uniform = (1.0 - 1.0 / inflation) / fits.len() as f64;
        let mut weights = vec![uniform; fits.len()];
        for (s, probability) in model_probabilities(&evidences) {
            weights[s] += probability / inflation;
        }
        let priors = fits
            .iter()
            .map(|f| HeadPrior {
                mean: f.head.mean.clone(),
                covariance: inflated_covariance(&f.head, inflation),
            })
            .collect();
        let mut conditioned = self.clone();
        conditioned.related_sources = Some(RelatedSourcePriors { priors, weights });
        Ok(conditioned)
    }

    /// Writes `dir/config.json` (settings and source task names),
    /// `dir/state.json` (head priors, side model, slope prior, the related
    /// task's conditioning and the training reports) and `dir/member_<i>.bpk`
    /// (Burn records), creating `dir`: [`Self::load`] gives back a meta-model
    /// that predicts what this one does.
    ///
    /// # Errors
    /// [`AenError::Io`], [`AenError::Json`] or [`AenError::Record`] naming the file.
    pub fn save(&self, dir: &Path) -> crate::error::Result<()> {
        save_members(dir, &self.members)?;
        let state = StateFile {
            priors: self.priors.clone(),
            side_priors: self.side_priors.clone(),
            side_model: self.side_model,
            slope_prior: self.slope_prior,
            related_sources: self.related_sources.clone(),
            reports: self.reports.clone(),
        };
        write_json(&dir.join(STATE_JSON), &state)?;
        let file = MetaFile {
            config: self.config.clone(),
            task_names: self.task_names.clone(),
        };
        write_json(&dir.join(META_JSON), &file)
    }

    /// Reads a folder written by [`Self::save`] onto `device`. A folder
    /// without `state.json` (written before it existed) loads as the
    /// meta-model fresh from meta-training: priors from the bodies, the
    /// default side model and slope prior, no related task, no reports.
    ///
    /// # Errors
    /// [`AenError::Io`], [`AenError::Json`] or [`AenError::Record`] naming the
    /// file; [`AenError::InvalidData`] when `state.json` does not fit the
    /// bodies and source tasks.
    pub fn load(dir: &Path, device: &Device) -> crate::error::Result<Self> {
        let file: MetaFile = read_json(&dir.join(META_JSON))?;
        let inference = device.clone().without_autodiff();
        let members = load_members(dir, &file.config.model, file.config.ensemble, &inference)?;
        let state_path = dir.join(STATE_JSON);
        let state = if state_path.exists() {
            let state: StateFile = read_json(&state_path)?;
            state.check(
                members.len(),
                file.config.model.features,
                file.task_names.len(),
                &state_path,
            )?;
            state
        } else {
            StateFile {
                priors: priors_of(&members, file.config.prior)?,
                side_priors: side_priors_of(&members, file.config.prior)?,
                side_model: SideModel::default(),
                slope_prior: SourceSlopePrior::default(),
                related_sources: None,
                reports: Vec::new(),
            }
        };
        Ok(Self {
            config: file.config,
            task_names: file.task_names,
            members,
            priors: state.priors,
            side_priors: state.side_priors,
            side_model: state.side_model,
            slope_prior: state.slope_prior,
            related_sources: state.related_sources,
            reports: state.reports,
            device: inference,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ranking_metrics::kendall_tau;
    use metanas_space::SearchSpace;
    use metanas_space::nb201::Nb201Space;
    use metanas_space::nb201::vocabulary::{AVG_POOL_3X3, NOR_CONV_1X1, NOR_CONV_3X3};

    /// How many nodes of vocabulary index `op` the cell has.
    fn count(e: &GraphEncoding, op: usize) -> f64 {
        e.count_nodes(op) as f64
    }

    /// Tiny bodies meta-trained on three tasks that weigh the counts of 3×3
    /// convolutions, 1×1 convolutions and 3×3 average pools differently.
    fn meta_trained() -> (Vec<GraphEncoding>, Vec<TaskValues>, MetaAen) {
        let device = metanas_device::test_device();
        let space = Nb201Space;
        let cells: Vec<GraphEncoding> = space
            .enumerate()
            .expect("finite")
            .step_by(31)
            .map(|a| space.encode(&a))
            .collect();
        // Every term below varies over these cells (a term that is always zero tests nothing).
        for op in [NOR_CONV_3X3, NOR_CONV_1X1, AVG_POOL_3X3] {
            let counts: std::collections::HashSet<usize> =
                cells.iter().map(|e| e.count_nodes(op)).collect();
            assert!(counts.len() > 2, "op {op} counts {counts:?}");
        }
        // A small deterministic jitter per task keeps the op-count ties apart.
        let task = |name: &str, a: f64, b: f64, c: f64, salt: usize| TaskValues {
            name: name.into(),
            values: cells
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    a * count(e, NOR_CONV_3X3)
                        + b * count(e, NOR_CONV_1X1)
                        + c * count(e, AVG_POOL_3X3)
                        + 0.1 * ((i * 7919 + salt * 104729) % 101) as f64 / 101.0
                })
                .collect(),
        };
        let tasks = vec![
            task("a", 1.0, 0.5, 0.0, 1),
            task("b", 0.2, 1.0, 0.3, 2),
            task("c", 0.0, 0.3, 1.0, 3),
        ];
        let config = MetaAenConfig::new(
            AenConfig::new(space.vocabulary_size())
                .with_hidden(16)
                .with_features(16),
        )
        .with_ensemble(2)
        .with_training(
            TrainingConfig::new()
                .with_batch_size(64)
                .with_max_epochs(40)
                .with_patience(8),
        );
        let meta = MetaAen::meta_train(&cells, &tasks, &config, &device).expect("meta-trains");
        (cells, tasks, meta)
    }

    #[test]
    fn source_mixture_follows_the_source_that_explains_the_task_and_round_trips() {
        let (cells, tasks, meta) = meta_trained();
        let n = cells.len();
        let side: Vec<f64> = {
            let scores: Vec<Vec<f64>> = tasks
                .iter()
                .map(|t| crate::normal_scores(&t.values).expect("finite"))
                .collect();
            (0..n)
                .flat_map(|i| scores.iter().map(move |c| c[i]))
                .collect()
        };
        let cache = meta
            .features(&meta.encode(&cells).expect("valid"))
            .with_side_features(&side, 3)
            .expect("sizes");
        // The new task is a monotone, non-linear function of source `b`; one observed cell is broken.
        let target: Vec<f64> = tasks[1].values.iter().map(|v| (0.8 * v).exp()).collect();
        let observed: Vec<usize> = (0..n).step_by(n / 15).take(15).collect();
        let mut values: Vec<f64> = observed.iter().map(|&i| target[i]).collect();
        values[3] = -50.0;
        let predictor = meta
            .adapt_features(&cache.select(&observed).expect("rows"), &values)
            .expect("adapts");
        let f = meta.config().model.features;
        let on_b: f64 = predictor
            .heads()
            .iter()
            .filter(|h| h.head.mean[f + 1] != 0.0)
            .map(|h| h.weight)
            .sum();
        assert!(on_b > 0.9, "weight on the heads reading source b: {on_b}");
        let predictions = predictor.predict_features(&cache).expect("valid");
        let rest: Vec<usize> = (0..n).filter(|i| !observed.contains(i)).collect();
        let mean: Vec<f64> = rest.iter().map(|&i| predictions[i].mean).collect();
        let truth: Vec<f64> = rest.iter().map(|&i| target[i]).collect();
        let tau = kendall_tau(&mean, &truth).expect("valid");
        assert!(tau > 0.9, "τ = {tau}");
        assert!(
            predictions
                .iter()
                .all(|p| p.std.is_finite() && p.std >= 0.0)
        );

        let dir = tempfile::tempdir().expect("temp dir");
        predictor.save(dir.path()).expect("saves");
        let loaded = AenPredictor::load(dir.path(), &meta.device).expect("loads");
        assert_eq!(loaded.heads().len(), predictor.heads().len());
        for (a, b) in loaded.heads().iter().zip(predictor.heads()) {
            assert!(a.member == b.member && (a.weight - b.weight).abs() < 1e-12);
        }
        for (a, b) in loaded
            .predict_features(&cache)
            .expect("valid")
            .iter()
            .zip(&predictions)
        {
            assert!(
                (a.mean - b.mean).abs() < 1e-9 && (a.std - b.std).abs() < 1e-9,
                "{a:?} {b:?}"
            );
        }
        // The joint head and the prior predictor still read the same cache.
        let joint = meta.clone().with_side_model(SideModel::Joint);
        assert!(
            joint
                .adapt_features(&cache.select(&observed).expect("rows"), &values)
                .is_ok()
        );
        let prior = meta
            .prior_predictor(true)
            .expect("prior")
            .predict_features(&cache)
            .expect("valid");
        let average: Vec<f64> = (0..n)
            .map(|i| side[i * 3..i * 3 + 3].iter().sum::<f64>() / 3.0)
            .collect();
        let tau_prior = kendall_tau(&prior.iter().map(|p| p.mean).collect::<Vec<_>>(), &average)
            .expect("valid");
        assert!(
            tau_prior > 0.999,
            "the prior predicts the average source: τ {tau_prior}"
        );
    }

    #[test]
    fn conditioning_on_a_related_task_carries_its_source_weights_and_slopes() {
        let (cells, tasks, meta) = meta_trained();
        let n = cells.len();
        let scores: Vec<Vec<f64>> = tasks
            .iter()
            .map(|t| crate::normal_scores(&t.values).expect("finite"))
            .collect();
        let side: Vec<f64> = (0..n)
            .flat_map(|i| scores.iter().map(move |c| c[i]))
            .collect();
        let cache = meta
            .features(&meta.encode(&cells).expect("valid"))
            .with_side_features(&side, 3)
            .expect("sizes");
        // The related task rises with source `c`; 24 of its cells are measured.
        let related: Vec<usize> = (0..n).step_by(n / 24).take(24).collect();
        let values: Vec<f64> = related.iter().map(|&i| 90.0 + 2.0 * scores[2][i]).collect();
        let conditioned = meta
            .conditioned_on(&cache.select(&related).expect("rows"), &values, 2.0)
            .expect("conditions");
        assert_eq!(
            conditioned.side_model(),
            SideModel::SingleSources,
            "the single-source average is kept"
        );
        let prior = conditioned.prior_predictor(true).expect("prior");
        let f = meta.config().model.features;
        let on_c: f64 = prior
            .heads()
            .iter()
            .filter(|h| h.head.mean[f + 2] != 0.0)
            .map(|h| h.weight)
            .sum();
        assert!(
            on_c > 0.6,
            "prior weight on source c (half follows the related task at inflation 2): {on_c}"
        );
        let means: Vec<f64> = prior
            .predict_features(&cache)
            .expect("valid")
            .iter()
            .map(|p| p.mean)
            .collect();
        let tau = kendall_tau(&means, &scores[2]).expect("valid");
        assert!(
            tau > 0.85,
            "before any observation the new task is ranked like source c: τ {tau}"
        );
        // A new task that follows source `a` instead moves the weight there after a few observations.
        let observed: Vec<usize> = (0..n).step_by(n / 12).take(12).collect();
        let new_values: Vec<f64> = observed.iter().map(|&i| tasks[0].values[i]).collect();
        let adapted = conditioned
            .adapt_features(&cache.select(&observed).expect("rows"), &new_values)
            .expect("adapts");
        let on_a: f64 = adapted
            .heads()
            .iter()
            .filter(|h| h.head.mean[f] != 0.0)
            .map(|h| h.weight)
            .sum();
        assert!(
            on_a > 0.5,
            "weight on source a after 12 observations of a task that follows it: {on_a}"
        );
        // Without side features the body's head prior is conditioned instead.
        let body_only = meta.features(&meta.encode(&cells).expect("valid"));
        let values_body: Vec<f64> = related.iter().map(|&i| tasks[2].values[i]).collect();
        assert!(
            meta.conditioned_on(
                &body_only.select(&related).expect("rows"),
                &values_body,
                2.0
            )
            .is_ok()
        );
        assert!(
            meta.conditioned_on(&cache.select(&related).expect("rows"), &values, 0.5)
                .is_err()
        );
    }

    #[test]
    fn meta_init_adapts_to_a_related_task_from_few_points_and_round_trips() {
        let device = metanas_device::test_device();
        let (cells, _, meta) = meta_trained();
        let config = meta.config().clone();
        let target: Vec<f64> = cells
            .iter()
            .map(|e| {
                0.7 * count(e, NOR_CONV_3X3)
                    + 0.6 * count(e, NOR_CONV_1X1)
                    + 0.2 * count(e, AVG_POOL_3X3)
            })
            .collect();
        let observations: Vec<(GraphEncoding, f64)> =
            (0..10).map(|i| (cells[i].clone(), target[i])).collect();
        let predictor = meta.adapt(&observations).expect("adapts");
        let rest = &cells[10..];
        let predictions = predictor.predict(rest).expect("valid");
        let mean: Vec<f64> = predictions.iter().map(|p| p.mean).collect();
        let tau = kendall_tau(&mean, &target[10..]).expect("valid");
        assert!(tau > 0.6, "τ = {tau}");
        assert!(predictions.iter().all(|p| p.std > 0.0 && p.std.is_finite()));

        let dir = tempfile::tempdir().expect("temp dir");
        meta.save(dir.path()).expect("saves");
        let loaded = MetaAen::load(dir.path(), &device).expect("loads");
        assert_eq!(loaded.task_names(), meta.task_names());
        let again = loaded
            .adapt(&observations)
            .expect("adapts")
            .predict(rest)
            .expect("valid");
        for (a, b) in predictions.iter().zip(&again) {
            assert!((a.mean - b.mean).abs() < 1e-4, "{a:?} {b:?}");
        }
        assert!(meta.adapt(&[]).is_err());
        assert!(meta.adapt(&[(cells[0].clone(), f64::NAN)]).is_err());
        assert!(MetaAen::meta_train(&cells, &[], &config, &device).is_err());
    }

    /// The source tasks' values as normal scores: `cells × tasks` row-major
    /// (side features), and per task.
    fn source_scores(tasks: &[TaskValues]) -> (Vec<f64>, Vec<Vec<f64>>) {
        let scores: Vec<Vec<f64>> = tasks
            .iter()
            .map(|t| crate::normal_scores(&t.values).expect("finite"))
            .collect();
        let n = scores.first().map_or(0, Vec::len);
        let side = (0..n)
            .flat_map(|i| scores.iter().map(move |c| c[i]))
            .collect();
        (side, scores)
    }

    /// Everything `meta` predicts for every cell, from its own bodies' features:
    /// without and with side features, before any observation and after
    /// `observed`/`values`; means and stds in one list.
    fn everything_predicted(
        meta: &MetaAen,
        cells: &[GraphEncoding],
        side: &[f64],
        observed: &[usize],
        values: &[f64],
    ) -> Vec<f64> {
        let body = meta.features(&meta.encode(cells).expect("valid"));
        let with_sources = body
            .with_side_features(side, meta.task_names().len())
            .expect("sizes");
        let mut out = Vec::new();
        for (cache, sources) in [(&body, false), (&with_sources, true)] {
            let prior = meta.prior_predictor(sources).expect("prior");
            let adapted = meta
                .adapt_features(&cache.select(observed).expect("rows"), values)
                .expect("adapts");
            for predictor in [prior, adapted] {
                for p in predictor.predict_features(cache).expect("valid") {
                    out.extend([p.mean, p.std]);
                }
            }
        }
        out
    }

    /// The largest difference between `a` and `b`, relative to `1 + |b|`.
    fn largest_difference(a: &[f64], b: &[f64]) -> f64 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs() / (1.0 + y.abs()))
            .fold(0.0, f64::max)
    }

    #[test]
    fn a_loaded_meta_model_predicts_what_the_saved_one_did() {
        let device = metanas_device::test_device();
        let (cells, tasks, meta) = meta_trained();
        let n = cells.len();
        let (side, scores) = source_scores(&tasks);
        let body = meta.features(&meta.encode(&cells).expect("valid"));
        let with_sources = body.with_side_features(&side, 3).expect("sizes");
        // A related task that rises with source `c`; a new task that follows source `a`.
        let related: Vec<usize> = (0..n).step_by(n / 24).take(24).collect();
        let related_values: Vec<f64> = related.iter().map(|&i| 90.0 + 2.0 * scores[2][i]).collect();
        let observed: Vec<usize> = (0..n).step_by(n / 12).take(12).collect();
        let values: Vec<f64> = observed.iter().map(|&i| tasks[0].values[i]).collect();
        let slope = SourceSlopePrior::from_source_values(&side, 3).expect("valid");
        let condition = |m: MetaAen, cache: &FeatureCache| {
            m.conditioned_on(&cache.select(&related).expect("rows"), &related_values, 2.0)
                .expect("conditions")
        };
        let variants = [
            (
                "single sources, slope prior, related task",
                condition(meta.clone().with_slope_prior(slope), &with_sources),
            ),
            (
                "sources and body, slope prior",
                meta.clone()
                    .with_side_model(SideModel::SourcesAndBody)
                    .with_slope_prior(slope),
            ),
            (
                "joint head conditioned on the related task",
                condition(
                    meta.clone().with_side_model(SideModel::Joint),
                    &with_sources,
                ),
            ),
            (
                "body prior conditioned on the related task",
                condition(meta.clone(), &body),
            ),
        ];
        let fresh = everything_predicted(&meta, &cells, &side, &observed, &values);
        for (name, variant) in &variants {
            let expected = everything_predicted(variant, &cells, &side, &observed, &values);
            // The state matters: a meta-model that lost it would predict otherwise.
            assert!(
                largest_difference(&expected, &fresh) > 1e-3,
                "{name}: predicts as the fresh meta-model does"
            );
            let dir = tempfile::tempdir().expect("temp dir");
            variant.save(dir.path()).expect("saves");
            let loaded = MetaAen::load(dir.path(), &device).expect("loads");
            assert_eq!(loaded.side_model(), variant.side_model(), "{name}");
            assert_eq!(loaded.task_names(), variant.task_names(), "{name}");
            assert_eq!(loaded.reports().len(), variant.reports().len(), "{name}");
            for (a, b) in loaded.reports().iter().zip(variant.reports()) {
                assert_eq!((a.epochs, a.best_epoch), (b.epochs, b.best_epoch), "{name}");
                assert!(largest_difference(&a.epoch_losses, &b.epoch_losses) < 1e-12);
            }
            let difference = largest_difference(
                &everything_predicted(&loaded, &cells, &side, &observed, &values),
                &expected,
            );
            assert!(
                difference < 1e-6,
                "{name}: the loaded meta-model differs by {difference}"
            );
        }

        // A folder written before `state.json` existed loads as the fresh meta-model.
        let dir = tempfile::tempdir().expect("temp dir");
        variants[0].1.save(dir.path()).expect("saves");
        let state = dir.path().join(STATE_JSON);
        let text = std::fs::read_to_string(&state).expect("state.json");
        std::fs::remove_file(&state).expect("removes");
        let old = MetaAen::load(dir.path(), &device).expect("loads without state.json");
        assert!(old.reports().is_empty() && old.side_model() == SideModel::default());
        let difference = largest_difference(
            &everything_predicted(&old, &cells, &side, &observed, &values),
            &fresh,
        );
        assert!(difference < 1e-6, "an old folder differs by {difference}");

        // A state that does not fit the bodies is a typed error, not a panic later.
        let mut damaged: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        damaged["related_sources"]["weights"]
            .as_array_mut()
            .expect("weights")
            .pop();
        std::fs::write(&state, damaged.to_string()).expect("writes");
        assert!(matches!(
            MetaAen::load(dir.path(), &device),
            Err(AenError::InvalidData(_))
        ));
    }
}
