//! `cargo xtask bench-aen`: the AEN's Must-show table on NAS-Bench-201.
//!
//! Every row is measured here, with seeded draws; nothing is copied from elsewhere.

use crate::statistics::{mean_sd, median};
use anyhow::Context;
use metanas_aen::{
    AenConfig, AenPredictor, FeatureCache, FitConfig, HeadPrior, MetaAen, MetaAenConfig,
    Prediction, PriorKind, Propagation, SideModel, TaskValues, TrainingConfig, fit,
    fit_head_with_evidence, kendall_tau, normal_scores, precision_at_k, spearman_rho,
};
use metanas_data::{BenchmarkTable, MetricKind, TableTask, TaskCatalog, shipped};
use metanas_device::BackendChoice;
use metanas_search::{CellSourceValues, SourceValues};
use metanas_space::nb201::Nb201Space;
use metanas_space::{GraphEncoding, SearchSpace};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `cargo xtask bench-aen`.
#[derive(Debug, clap::Args)]
pub struct BenchAenArgs {
    /// Number of seeds (observation draws and from-scratch fits) per row.
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// A fast smoke run: smaller ensembles, fewer epochs, 3 latency devices.
    #[arg(long)]
    pub quick: bool,
    /// Ensemble size of the accuracy meta-models and of the scoring benchmark.
    #[arg(long, default_value_t = 5)]
    pub ensemble: usize,
    /// Ensemble size of the latency meta-models (one per held-out device family).
    #[arg(long, default_value_t = 2)]
    pub latency_ensemble: usize,
    /// Folder caching meta-trained models between runs (key: family and settings).
    #[arg(long, default_value = "target/aen-cache")]
    pub cache: PathBuf,
    /// Retrain meta-models even when cached.
    #[arg(long)]
    pub no_cache: bool,
    /// Meta-train on every column of the source families, their test and
    /// NATS re-run columns included (`TaskCatalog::with_report_columns_as_tasks`);
    /// the transfer baselines then choose among those columns too. Every
    /// meta-model gets them, the latency rows' too (their sources are all
    /// columns outside the held-out family).
    #[arg(long)]
    pub report_columns_as_sources: bool,
}

struct Bench {
    /// The accuracy table and the latency table: the meta-models' sources.
    tables: [BenchmarkTable<Nb201Space>; 2],
    encodings: Vec<GraphEncoding>,
    columns: BTreeMap<String, Vec<f64>>,
    catalog: TaskCatalog,
    device: burn::tensor::Device,
}

fn fmt(v: &[f64]) -> String {
    let (m, sd) = mean_sd(v);
    if v.len() > 1 {
        format!("{m:.3} ± {sd:.3}")
    } else {
        format!("{m:.3}")
    }
}

fn means(p: &[Prediction]) -> Vec<f64> {
    p.iter().map(|p| p.mean).collect()
}

fn pick<T: Clone>(v: &[T], idx: &[usize]) -> Vec<T> {
    idx.iter().map(|&i| v[i].clone()).collect()
}

/// `k` observed cells and the rest, for a seed.
fn draw(n: usize, k: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let rest = order.split_off(k);
    (order, rest)
}

impl Bench {
    fn load(report_columns_as_sources: bool) -> anyhow::Result<Self> {
        let acc = shipped::nb201_table().context("NAS-Bench-201 table")?;
        let lat = shipped::nb201_latency_table().context("latency table")?;
        let space = Nb201Space;
        let archs = acc.archs().to_vec();
        let encodings: Vec<GraphEncoding> = archs.iter().map(|a| space.encode(a)).collect();
        let catalog = TaskCatalog::nb201(&acc, &lat)?;
        let catalog = if report_columns_as_sources {
            catalog.with_report_columns_as_tasks()
        } else {
            catalog
        };
        let mut columns = BTreeMap::new();
        for name in acc.column_names() {
            columns.insert(name.clone(), acc.column(name)?.to_vec());
        }
        let lat_rows: Vec<usize> = archs
            .iter()
            .map(|a| lat.row_of(a).context("cell missing from the latency table"))
            .collect::<anyhow::Result<_>>()?;
        for name in lat.column_names() {
            let col = lat.column(name)?;
            columns.insert(name.clone(), lat_rows.iter().map(|&r| col[r]).collect());
        }
        Ok(Self {
            tables: [acc, lat],
            encodings,
            columns,
            catalog,
            device: BackendChoice::Flex.device(),
        })
    }

    fn column(&self, name: &str) -> anyhow::Result<&[f64]> {
        self.columns
            .get(name)
            .map(Vec::as_slice)
            .with_context(|| format!("no column {name}"))
    }

    /// Source tasks a held-out family may use (finite values only).
    fn sources(&self, family: &str) -> anyhow::Result<Vec<TableTask>> {
        let split = self.catalog.leave_family_out(family)?;
        Ok(split
            .train
            .into_iter()
            .filter(|t| {
                self.columns
                    .get(&t.name)
                    .is_some_and(|c| c.iter().all(|v| v.is_finite()))
            })
            .collect())
    }

    fn meta_model(
        &self,
        family: &str,
        config: &MetaAenConfig,
        args: &BenchAenArgs,
    ) -> anyhow::Result<MetaAen> {
        let m = &config.model;
        let key = format!(
            "{family}-e{}-h{}-f{}-l{}-{:?}-ep{}-s{}{}",
            config.ensemble,
            m.hidden,
            m.features,
            m.layers,
            m.propagation,
            config.training.max_epochs,
            config.training.seed,
            if args.report_columns_as_sources {
                "-report-columns"
            } else {
                ""
            }
        );
        let dir = args.cache.join(key);
        if !args.no_cache && dir.join("config.json").exists() {
            return Ok(MetaAen::load(&dir, &self.device)?);
        }
        let tasks: Vec<TaskValues> = self
            .sources(family)?
            .iter()
            .map(|t| {
                Ok(TaskValues {
                    name: t.name.clone(),
                    values: self.column(&t.name)?.to_vec(),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        let start = Instant::now();
        let meta = MetaAen::meta_train(&self.encodings, &tasks, config, &self.device)?;
        let epochs: Vec<usize> = meta.reports().iter().map(|r| r.epochs).collect();
        eprintln!(
            "  meta-trained without `{family}` on {} tasks in {:.0} s (epochs {epochs:?})",
            tasks.len(),
            start.elapsed().as_secs_f64()
        );
        meta.save(&dir)?;
        Ok(meta)
    }

    /// `meta` with the slope prior learned from its source columns, those
    /// columns for every cell (row-major, `cells × columns`) as a search
    /// reads them for such a target, and `cache` with them appended: what its
    /// heads read when they also read the sources. Accuracies are read per
    /// canonical class ([`SourceValues`]: isomorphic cells averaged, as an
    /// accuracy search reads them); latencies per cell string
    /// ([`CellSourceValues`]: a cell's dead operations still run on hardware,
    /// as `cargo xtask latency` reads them).
    fn with_sources(
        &self,
        meta: MetaAen,
        cache: &FeatureCache,
        target: MetricKind,
    ) -> anyhow::Result<(MetaAen, Vec<f64>, FeatureCache)> {
        let names = meta.task_names();
        let [accuracy, latency] = &self.tables;
        let (values, slope_prior) = if target == MetricKind::Latency {
            let sources = CellSourceValues::from_tables(&[accuracy, latency], names)?;
            (
                sources.rows(&Nb201Space, accuracy.archs())?,
                sources.slope_prior()?,
            )
        } else {
            let sources = SourceValues::from_tables(&[accuracy, latency], names)?;
            (sources.rows(&self.encodings)?, sources.slope_prior()?)
        };
        let side_cache = cache.with_side_features(&values, names.len())?;
        Ok((meta.with_slope_prior(slope_prior), values, side_cache))
    }

    /// For each of `metas` (one meta-model under different head priors): its
    /// predictor adapted on the rows `obs` of `values`, reading `side_cache`
    /// (body features plus the sources' normal scores); the mean prediction
    /// for every cell.
    fn adapt_with_sources(
        &self,
        metas: &[MetaAen],
        side_cache: &FeatureCache,
        obs: &[usize],
        values: &[f64],
    ) -> anyhow::Result<Vec<Vec<f64>>> {
        let observed = side_cache.select(obs)?;
        let observed_values = pick(values, obs);
        metas
            .iter()
            .map(|meta| {
                Ok(means(
                    &meta
                        .adapt_features(&observed, &observed_values)?
                        .predict_features(side_cache)?,
                ))
            })
            .collect()
    }

    /// Kendall τ, over every cell, of the least-squares linear model from the
    /// sources' normal scores (`side`, `cells × columns`) to the target's
    /// normal scores, fitted on every cell: what any head that weighs the
    /// sources linearly could reach with all the target's values known.
    fn source_ceiling(&self, side: &[f64], columns: usize, target: &[f64]) -> anyhow::Result<f64> {
        let y = normal_scores(target)?;
        let p = columns + 1;
        let phi: Vec<f64> = side
            .chunks(columns)
            .flat_map(|row| row.iter().copied().chain(std::iter::once(1.0)))
            .collect();
        let mut covariance = vec![0.0; p * p];
        (0..p).for_each(|i| covariance[i * p + i] = 100.0);
        let fit = fit_head_with_evidence(
            &phi,
            &y,
            &HeadPrior {
                mean: vec![0.0; p],
                covariance,
            },
        )?;
        let predicted: Vec<f64> = phi
            .chunks(p)
            .map(|row| row.iter().zip(&fit.head.mean).map(|(x, w)| x * w).sum())
            .collect();
        Ok(kendall_tau(&predicted, target)?)
    }

    /// Best source column for `target` among `sources`: by `metric` on `cells`.
    fn best_source(
        &self,
        target: &[f64],
        sources: &[TableTask],
        cells: &[usize],
        metric: fn(&[f64], &[f64]) -> metanas_aen::Result<f64>,
    ) -> anyhow::Result<(String, f64)> {
        let t = pick(target, cells);
        let mut best = (String::new(), f64::NEG_INFINITY, 1.0);
        for s in sources {
            let col = pick(self.column(&s.name)?, cells);
            let r = metric(&col, &t).unwrap_or(0.0);
            for sign in [1.0, -1.0] {
                if sign * r > best.1 {
                    best = (s.name.clone(), sign * r, sign);
                }
            }
        }
        Ok((best.0, best.2))
    }
}

fn kendall_fast(p: &[f64], t: &[f64]) -> metanas_aen::Result<f64> {
    kendall_tau(p, t)
}

struct Row {
    name: String,
    values: Vec<String>,
}

/// Runs the benchmark and prints the table (markdown) on stdout, progress on stderr.
pub fn run(args: &BenchAenArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let bench = Bench::load(args.report_columns_as_sources)?;
    let n = bench.encodings.len();
    let vocab = Nb201Space.vocabulary_size();
    let seeds: Vec<u64> = (0..args.seeds.max(1)).collect();
    let (epochs, ensemble, lat_ensemble) = if args.quick {
        (8, 2, 1)
    } else {
        (25, args.ensemble, args.latency_ensemble)
    };
    let body = AenConfig::new(vocab)
        .with_hidden(64)
        .with_features(64)
        .with_layers(3);
    let mut rows: Vec<Row> = Vec::new();
    let mut notes: Vec<String> = Vec::new();

    // 1. From scratch on c10v_valid: 100 training cells, τ on 1,000 held-out cells.
    eprintln!("from scratch: c10v_valid, 100 train / 1000 held-out");
    let c10 = bench.column("c10v_valid")?.to_vec();
    for propagation in [Propagation::Symmetric, Propagation::Directed] {
        let mut taus = Vec::new();
        let mut p10 = Vec::new();
        for &s in &seeds {
            let (train, rest) = draw(n, 100, 100 + s);
            let test = &rest[..1000];
            let obs: Vec<(GraphEncoding, f64)> = train
                .iter()
                .map(|&i| (bench.encodings[i].clone(), c10[i]))
                .collect();
            let config = FitConfig::new(body.clone().with_propagation(propagation))
                .with_ensemble(if args.quick { 1 } else { 3 })
                .with_training(
                    TrainingConfig::new()
                        .with_seed(s)
                        .with_max_epochs(if args.quick { 60 } else { 300 }),
                );
            let predictor = fit(&obs, &config, &bench.device)?;
            let pred = means(&predictor.predict(&pick(&bench.encodings, test))?);
            let truth = pick(&c10, test);
            taus.push(kendall_tau(&pred, &truth)?);
            p10.push(precision_at_k(&pred, &truth, 10)?);
        }
        rows.push(Row {
            name: format!("from scratch, c10v_valid, 100 train → τ on 1000 ({propagation:?})"),
            values: vec![
                fmt(&taus),
                format!("P@10 {}", fmt(&p10)),
                "NASLib GCN ≈ 0.5–0.6".into(),
            ],
        });
    }

    // 2–3. Accuracy targets: transfer baseline, meta-init + adapt(20), scratch on the same 20.
    let meta_config = |e: usize, ep: usize| {
        MetaAenConfig::new(body.clone())
            .with_ensemble(e)
            .with_training(
                TrainingConfig::new()
                    .with_batch_size(256)
                    .with_max_epochs(ep)
                    .with_patience(4)
                    .with_validation_fraction(0.1),
            )
    };
    let mut scoring_predictor: Option<(AenPredictor, MetaAen, AenPredictor, FeatureCache)> = None;
    for (family, target, goal) in [("c100", "c100_valid", 0.90), ("in16", "in16_valid", 0.87)] {
        eprintln!("meta: {target} (leave `{family}` out)");
        let meta = bench.meta_model(family, &meta_config(ensemble, epochs), args)?;
        let sources = bench.sources(family)?;
        let truth_all = bench.column(target)?.to_vec();
        let all = meta.encode(&bench.encodings)?;
        let cache = meta.features(&all);
        let isotropic = meta.clone().with_prior(PriorKind::Isotropic)?;
        let (meta, source_values, side_cache) =
            bench.with_sources(meta, &cache, MetricKind::Accuracy)?;
        let side_metas = [
            meta.clone(),
            meta.clone().with_side_model(SideModel::SourcesAndBody),
            meta.clone()
                .with_prior(PriorKind::SourceMean)?
                .with_side_model(SideModel::Joint),
            meta.clone()
                .with_prior(PriorKind::SourceHeads)?
                .with_side_model(SideModel::Joint),
        ];
        // Ablation: the same heads with the body's features zeroed, i.e. a Bayesian
        // linear regression on the sources' values alone.
        let zero_body = FeatureCache {
            features: cache
                .features
                .iter()
                .map(|f| f.clone().zeros_like())
                .collect(),
        };
        let sources_only_cache =
            zero_body.with_side_features(&source_values, meta.task_names().len())?;
        let (oracle, sign) = {
            let (subset, _) = draw(n, 3000, 7);
            bench.best_source(&truth_all, &sources, &subset, kendall_fast)?
        };
        let (mut t_meta, mut t_iso, mut t_scratch, mut t_oracle, mut t_sel, mut p_meta) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let (mut t_side_mean, mut t_side_heads, mut p_side, mut t_sources_only) =
            (vec![], vec![], vec![], vec![]);
        let (mut t_mixture, mut p_mixture, mut t_with_body) = (vec![], vec![], vec![]);
        for &s in &seeds {
            let (obs, rest) = draw(n, 20, 1000 + s);
            let truth = pick(&truth_all, &rest);
            let values = pick(&truth_all, &obs);
            let observed = cache.select(&obs)?;
            let predictor = meta.adapt_features(&observed, &values)?;
            let pred = means(&predictor.predict_features(&cache)?);
            let pred_rest = pick(&pred, &rest);
            t_meta.push(kendall_tau(&pred_rest, &truth)?);
            p_meta.push(precision_at_k(&pred_rest, &truth, 10)?);
            let side = bench.adapt_with_sources(&side_metas, &side_cache, &obs, &truth_all)?;
            t_mixture.push(kendall_tau(&pick(&side[0], &rest), &truth)?);
            p_mixture.push(precision_at_k(&pick(&side[0], &rest), &truth, 10)?);
            t_with_body.push(kendall_tau(&pick(&side[1], &rest), &truth)?);
            t_side_mean.push(kendall_tau(&pick(&side[2], &rest), &truth)?);
            p_side.push(precision_at_k(&pick(&side[2], &rest), &truth, 10)?);
            t_side_heads.push(kendall_tau(&pick(&side[3], &rest), &truth)?);
            let only = bench.adapt_with_sources(
                &side_metas[2..3],
                &sources_only_cache,
                &obs,
                &truth_all,
            )?;
            t_sources_only.push(kendall_tau(&pick(&only[0], &rest), &truth)?);
            let iso = isotropic.adapt_features(&observed, &values)?;
            t_iso.push(kendall_tau(
                &pick(&means(&iso.predict_features(&cache)?), &rest),
                &truth,
            )?);
            let obs_pairs: Vec<(GraphEncoding, f64)> = obs
                .iter()
                .map(|&i| (bench.encodings[i].clone(), truth_all[i]))
                .collect();
            let scratch = fit(
                &obs_pairs,
                &FitConfig::new(body.clone())
                    .with_ensemble(if args.quick { 1 } else { 3 })
                    .with_training(
                        TrainingConfig::new()
                            .with_seed(s)
                            .with_batch_size(8)
                            .with_max_epochs(200)
                            .with_validation_fraction(0.2),
                    ),
                &bench.device,
            )?;
            t_scratch.push(kendall_tau(
                &means(&scratch.predict(&pick(&bench.encodings, &rest))?),
                &truth,
            )?);
            let oracle_col: Vec<f64> = bench.column(&oracle)?.iter().map(|v| v * sign).collect();
            t_oracle.push(kendall_tau(&pick(&oracle_col, &rest), &truth)?);
            let (chosen, csign) = bench.best_source(&truth_all, &sources, &obs, kendall_fast)?;
            let chosen_col: Vec<f64> = bench.column(&chosen)?.iter().map(|v| v * csign).collect();
            t_sel.push(kendall_tau(&pick(&chosen_col, &rest), &truth)?);
        }
        let ceiling = bench.source_ceiling(&source_values, meta.task_names().len(), &truth_all)?;
        let (o, _) = mean_sd(&t_oracle);
        for (variant, taus) in [
            ("bodies only", &t_meta),
            ("model average of single sources", &t_mixture),
        ] {
            let (m, _) = mean_sd(taus);
            notes.push(format!(
                "{target}: meta+adapt(20), {variant}: τ {m:.3} vs goal {goal:.2} → {}; vs best-source baseline {o:.3} → {}",
                if m >= goal { "met" } else { "MISSED" },
                if m > o { "above" } else { "NOT above" }
            ));
        }
        rows.push(Row {
            name: format!("{target}: meta-init (no {family}_*) + adapt(20) → τ on rest"),
            values: vec![
                fmt(&t_meta),
                format!("P@10 {}", fmt(&p_meta)),
                format!("goal ≥ {goal:.2}"),
            ],
        });
        rows.push(Row { name: format!("{target}: meta-init + adapt(20), heads also read the sources' values: model average of single sources (default)"), values: vec![fmt(&t_mixture), format!("P@10 {}", fmt(&p_mixture)), format!("goal ≥ {goal:.2}")] });
        rows.push(Row { name: format!("{target}: the same, model average also over body, body + best source, joint head (ablation)"), values: vec![fmt(&t_with_body), String::new(), String::new()] });
        rows.push(Row {
            name: format!(
                "{target}: the same, one joint head over body and all sources (prior: mean source)"
            ),
            values: vec![
                fmt(&t_side_mean),
                format!("P@10 {}", fmt(&p_side)),
                String::new(),
            ],
        });
        rows.push(Row {
            name: format!("{target}: the same, joint head, prior: span of the sources (zero mean)"),
            values: vec![fmt(&t_side_heads), String::new(), String::new()],
        });
        rows.push(Row {
            name: format!(
                "{target}: joint head reading only the sources' values (body zeroed; ablation)"
            ),
            values: vec![fmt(&t_sources_only), String::new(), String::new()],
        });
        rows.push(Row {
            name: format!("{target}: same bodies, isotropic head prior (ablation)"),
            values: vec![fmt(&t_iso), String::new(), String::new()],
        });
        rows.push(Row {
            name: format!("{target}: same GCN from scratch on the same 20"),
            values: vec![fmt(&t_scratch), String::new(), String::new()],
        });
        rows.push(Row {
            name: format!(
                "{target}: transfer baseline, best source overall ({}{oracle})",
                if sign < 0.0 { "−" } else { "" }
            ),
            values: vec![
                fmt(&t_oracle),
                String::new(),
                "uses all target values to choose".into(),
            ],
        });
        rows.push(Row {
            name: format!("{target}: ceiling — linear model on all sources' normal scores fitted to all 15,625 target scores (in-sample)"),
            values: vec![format!("{ceiling:.3}"), String::new(), "no 20-observation method of this family can do better".into()],
        });
        rows.push(Row {
            name: format!("{target}: transfer baseline, source chosen on the 20"),
            values: vec![
                fmt(&t_sel),
                String::new(),
                "what a user could compute".into(),
            ],
        });
        if scoring_predictor.is_none() {
            let (obs, _) = draw(n, 20, 1000);
            let pairs: Vec<(GraphEncoding, f64)> = obs
                .iter()
                .map(|&i| (bench.encodings[i].clone(), truth_all[i]))
                .collect();
            let mixture =
                meta.adapt_features(&side_cache.select(&obs)?, &pick(&truth_all, &obs))?;
            scoring_predictor = Some((meta.adapt(&pairs)?, meta, mixture, side_cache));
        }
    }

    // 4. Latency: each device held out with its family, adapt on 10 observations, Spearman ρ.
    let latency: Vec<TableTask> = bench
        .catalog
        .tasks()
        .iter()
        .filter(|t| t.kind == metanas_data::MetricKind::Latency)
        .cloned()
        .collect();
    let latency = if args.quick {
        latency.into_iter().take(3).collect()
    } else {
        latency
    };
    let mut lat_meta_all = Vec::new();
    let mut lat_base_all = Vec::new();
    let mut lat_side_all = Vec::new();
    let mut lat_joint_all = Vec::new();
    let mut lat_with_body_all = Vec::new();
    for task in &latency {
        eprintln!("latency: {} (leave `{}` out)", task.name, task.family);
        let meta = bench.meta_model(
            &task.family,
            &meta_config(lat_ensemble, epochs.min(15)),
            args,
        )?;
        let sources = bench.sources(&task.family)?;
        let truth_all = bench.column(&task.name)?.to_vec();
        let cache = meta.features(&meta.encode(&bench.encodings)?);
        let (meta, _, side_cache) = bench.with_sources(meta, &cache, MetricKind::Latency)?;
        let side_metas = [
            meta.clone(),
            meta.clone()
                .with_prior(PriorKind::SourceHeads)?
                .with_side_model(SideModel::Joint),
            meta.clone().with_side_model(SideModel::SourcesAndBody),
        ];
        let (mut r_meta, mut r_sel, mut r_oracle, mut r_side, mut r_joint, mut r_with_body) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let (subset, _) = draw(n, 3000, 7);
        let (oracle, osign) = bench.best_source(&truth_all, &sources, &subset, spearman_rho)?;
        for &s in &seeds {
            let (obs, rest) = draw(n, 10, 2000 + s);
            let truth = pick(&truth_all, &rest);
            let observed = cache.select(&obs)?;
            let predictor = meta.adapt_features(&observed, &pick(&truth_all, &obs))?;
            r_meta.push(spearman_rho(
                &pick(&means(&predictor.predict_features(&cache)?), &rest),
                &truth,
            )?);
            let side = bench.adapt_with_sources(&side_metas, &side_cache, &obs, &truth_all)?;
            r_side.push(spearman_rho(&pick(&side[0], &rest), &truth)?);
            r_joint.push(spearman_rho(&pick(&side[1], &rest), &truth)?);
            r_with_body.push(spearman_rho(&pick(&side[2], &rest), &truth)?);
            let (chosen, csign) = bench.best_source(&truth_all, &sources, &obs, spearman_rho)?;
            let col: Vec<f64> = bench.column(&chosen)?.iter().map(|v| v * csign).collect();
            r_sel.push(spearman_rho(&pick(&col, &rest), &truth)?);
            let col: Vec<f64> = bench.column(&oracle)?.iter().map(|v| v * osign).collect();
            r_oracle.push(spearman_rho(&pick(&col, &rest), &truth)?);
        }
        lat_meta_all.push(mean_sd(&r_meta).0);
        lat_side_all.push(mean_sd(&r_side).0);
        lat_joint_all.push(mean_sd(&r_joint).0);
        lat_with_body_all.push(mean_sd(&r_with_body).0);
        lat_base_all.push(mean_sd(&r_sel).0);
        rows.push(Row {
            name: format!(
                "latency {} (family {}): meta + adapt(10) → ρ on rest",
                task.name, task.family
            ),
            values: vec![
                fmt(&r_meta),
                format!("chosen-source ρ {}", fmt(&r_sel)),
                format!("best source ({oracle}) ρ {}", fmt(&r_oracle)),
            ],
        });
        rows.push(Row {
            name: format!("latency {}: the same, heads also read the other devices' latencies (model average)", task.name),
            values: vec![fmt(&r_side), format!("joint head {}", fmt(&r_joint)), format!("with body models {}", fmt(&r_with_body))],
        });
    }
    let (lm, _) = mean_sd(&lat_meta_all);
    rows.push(Row {
        name: format!("latency: mean over {} held-out devices", lat_meta_all.len()),
        values: vec![
            format!("{lm:.3}"),
            format!("chosen-source ρ {:.3}", mean_sd(&lat_base_all).0),
            "HELP 0.93; goal ≥ 0.95".into(),
        ],
    });
    let (ls, _) = mean_sd(&lat_side_all);
    rows.push(Row {
        name: format!("latency: mean over {} held-out devices, heads also read the other devices' latencies (model average)", lat_side_all.len()),
        values: vec![
            format!("{ls:.3}"),
            format!("joint head {:.3}; with body models {:.3}", mean_sd(&lat_joint_all).0, mean_sd(&lat_with_body_all).0),
            "goal ≥ 0.95".into(),
        ],
    });
    for (variant, rho) in [
        ("bodies only", lm),
        ("model average with the other devices' latencies", ls),
    ] {
        notes.push(format!(
            "latency mean ρ, {variant}: {rho:.3} vs goal 0.95 → {}",
            if rho >= 0.95 { "met" } else { "MISSED" }
        ));
    }

    // 5. Scoring speed: all 15,625 cells, ensemble of `ensemble`, flex.
    if let Some((predictor, meta, mixture, side_cache)) = &scoring_predictor {
        let batch = predictor.encode(&bench.encodings)?;
        let time = |f: &dyn Fn() -> anyhow::Result<()>| -> anyhow::Result<f64> {
            f()?;
            let mut ms = Vec::new();
            for _ in 0..7 {
                let t = Instant::now();
                f()?;
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok(median(&ms))
        };
        let full = time(&|| {
            predictor.predict_batch(&batch)?;
            Ok(())
        })?;
        let encode = time(&|| {
            predictor.encode(&bench.encodings)?;
            Ok(())
        })?;
        let cache = meta.features(&batch);
        let cached = time(&|| {
            predictor.predict_features(&cache)?;
            Ok(())
        })?;
        let mixture_ms = time(&|| {
            mixture.predict_features(side_cache)?;
            Ok(())
        })?;
        let m = predictor.ensemble_size();
        rows.push(Row {
            name: format!("scoring 15,625 cells × ensemble {m}, pre-built batch, full GCN (flex)"),
            values: vec![
                format!("{full:.1} ms"),
                "goal ≤ 50 ms".into(),
                String::new(),
            ],
        });
        rows.push(Row {
            name: format!(
                "scoring 15,625 cells × ensemble {m}, cached body features (after adapt)"
            ),
            values: vec![format!("{cached:.1} ms"), String::new(), String::new()],
        });
        rows.push(Row {
            name: format!("scoring 15,625 cells, cached features, model-average heads reading the sources ({} heads after adapt(20))", mixture.heads().len()),
            values: vec![format!("{mixture_ms:.1} ms"), String::new(), String::new()],
        });
        rows.push(Row {
            name: "building the EncodedBatch of 15,625 cells (once)".into(),
            values: vec![format!("{encode:.1} ms"), String::new(), String::new()],
        });
    }

    println!("\n| row | value | | |\n|---|---|---|---|");
    for r in &rows {
        println!("| {} | {} |", r.name, r.values.join(" | "));
    }
    println!();
    for note in &notes {
        println!("- {note}");
    }
    println!(
        "\nseeds {}, meta ensemble {ensemble}, latency ensemble {lat_ensemble}, meta epochs ≤ {epochs}; cache {}; total {:.0} s",
        seeds.len(),
        if args.no_cache {
            "off".to_string()
        } else {
            args.cache.display().to_string()
        },
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
