//! The meta-training loop: resumable, checkpointed, with progress.

use crate::aon_settings_choice::{fit_settings_chooser, table_settings};
use crate::error::{MetaError, Result, io_error};
use crate::manifest::{
    AEN_DIR, AON_BEST_PREFIX, AON_CHECKPOINT_DIR, AON_DIR, AON_SETTINGS_CHOOSER_FILE, AenCurve,
    AonPoint, AonValidation, ImageObservation, Manifest, aon_best_dir,
};
use crate::meta_model::MetaModel;
use crate::meta_train_config::MetaTrainConfig;
use crate::source_tasks::SourceTasks;
use burn::tensor::Device;
use metanas_aen::MetaAen;
use metanas_aon::{Aon, AonMetaTrainer, InnerProblem, SettingsChooserConfig, SettingsTableRow};
use metanas_data::{FixedTask, ImageDataset};
use metanas_search::{Evaluator, NetworkSize, TrainingEvaluator};
use metanas_space::SearchSpace;
use metanas_space::nb201::{Nb201Cell, Nb201Space};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What the loop reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaProgress {
    /// The AEN stage started (it reports once, when done).
    AenStarted {
        /// Source tasks.
        tasks: usize,
        /// Cells.
        cells: usize,
        /// Ensemble members.
        members: usize,
    },
    /// The AEN stage finished (or was found finished in the folder).
    AenDone {
        /// Whether it was loaded from an earlier run.
        resumed: bool,
    },
    /// One AON meta-step.
    AonStep {
        /// The step's numbers.
        point: AonPoint,
        /// Steps to take in all.
        total: usize,
        /// Whether a checkpoint was written after it.
        checkpointed: bool,
    },
    /// The AON scored on the validation problems.
    AonValidated {
        /// Meta-steps taken (0: the untrained start).
        step: usize,
        /// Mean validation loss after the horizon.
        loss: f64,
        /// Meta-step of the best AON so far (the one the meta-model keeps).
        best_step: usize,
    },
    /// The AON stage resumed from a checkpoint.
    AonResumed {
        /// Meta-steps already done.
        steps_done: usize,
    },
    /// One cell measured on the image task.
    ImageCell {
        /// Cells measured so far.
        done: usize,
        /// Cells to measure.
        total: usize,
        /// The cell.
        arch: String,
        /// Its validation accuracy (percent).
        accuracy: f64,
    },
    /// The choice of the AON's settings per candidate was fitted.
    AonSettingsChooserFitted {
        /// What it was fitted on, and its cross-validation.
        record: Box<crate::aon_settings_choice::SettingsChooserRecord>,
    },
    /// The time limit stopped the run; running again resumes.
    Paused,
}

/// Meta-trains the AEN on source tasks and the AON on image tasks into a
/// meta-model folder, resuming whatever an earlier, interrupted run of the
/// same settings left there.
///
/// Stages, each checkpointed: (1) the AEN — shared GCN bodies fitted jointly
/// on every source task (each epoch visits every task; one head per task),
/// saved when done; (2) the AON — meta-steps over sampled (image task, cell)
/// inner problems, a checkpoint every `checkpoint_every` steps, the start and
/// the checkpoints due for scoring scored on validation problems, and the best
/// of them kept as the meta-model's AON ([`crate::AonSelection`]; it may be an
/// earlier meta-step's than the last); (3) the
/// image task — `image_cells` random cells trained briefly on it (with the
/// AON when there is one, as a search would), each recorded as it finishes:
/// the prior of searches on new image datasets. An interruption loses at
/// most the AEN stage in progress, the meta-steps since the last AON
/// checkpoint, or the cell being measured. No checkpoint is ever replaced by
/// an older one.
pub struct MetaTrainer {
    config: MetaTrainConfig,
    out: PathBuf,
    device: Device,
    max_seconds: Option<f64>,
    max_new_aon_steps: Option<usize>,
    aon_settings_table: Option<(Vec<SettingsTableRow>, String)>,
}

impl MetaTrainer {
    /// A trainer writing to `out` on `device` (training runs on its autodiff twin).
    ///
    /// # Errors
    /// [`MetaError::InvalidConfig`] for bad settings.
    pub fn new(config: MetaTrainConfig, out: &Path, device: &Device) -> Result<Self> {
        if config.checkpoint_every == 0 {
            return Err(MetaError::InvalidConfig(
                "checkpoint_every must be at least 1".into(),
            ));
        }
        if let Some(selection) = &config.aon_selection
            && (selection.problems == 0 || selection.every == 0)
        {
            return Err(MetaError::InvalidConfig(format!(
                "the AON selection needs at least 1 problem and a period of at least 1, got {selection:?}"
            )));
        }
        if let Some(aon) = &config.aon {
            aon.check()?;
        }
        config.aen.training.check()?;
        Ok(Self {
            config,
            out: out.to_path_buf(),
            device: device.clone(),
            max_seconds: None,
            max_new_aon_steps: None,
            aon_settings_table: None,
        })
    }

    /// Stops starting new work after `seconds` (the run can be resumed).
    pub fn with_time_limit(mut self, seconds: Option<f64>) -> Self {
        self.max_seconds = seconds;
        self
    }

    /// Also fits the choice of the AON's settings per candidate on `rows`, a
    /// table of measured runs ([`metanas_aon::extend_settings_table`]) named
    /// `table` in the manifest, with the meta-trained AEN's embeddings: stage
    /// 1b, after the AEN, in seconds to a minute. The meta-model keeps
    /// [`crate::FittedSettingsChooser::for_search`]: the table's best single
    /// setting when cross-validation finds that reading the candidate does
    /// not pay. A folder that already holds a chooser keeps it.
    pub fn with_aon_settings_table(
        mut self,
        rows: Vec<SettingsTableRow>,
        table: impl Into<String>,
    ) -> Self {
        self.aon_settings_table = Some((rows, table.into()));
        self
    }

    /// Pauses after `steps` new AON meta-steps in this call (work in chunks;
    /// the next call resumes).
    pub fn with_aon_step_limit(mut self, steps: Option<usize>) -> Self {
        self.max_new_aon_steps = steps;
        self
    }

    /// The problems that choose the AON the meta-model keeps: drawn once, from
    /// the meta-training distribution, with the run's seed.
    fn aon_validation_problems(&self, trainer: &AonMetaTrainer) -> Vec<InnerProblem> {
        let mut rng = StdRng::seed_from_u64(self.config.seed ^ 0x0a0e_7a11_da7e_5eed);
        let problems = self
            .config
            .aon_selection
            .as_ref()
            .map_or(0, |selection| selection.problems);
        (0..problems)
            .map(|_| trainer.sampler().sample(&mut rng))
            .collect()
    }

    /// Scores the trainer's AON on `validation` when its meta-step is due (the
    /// start, a multiple of the selection's period, the last) and not scored yet,
    /// and keeps it in `aon-best/` when it is the best so far. Called at
    /// checkpoints only, so every recorded score belongs to a checkpointed AON.
    fn validate_aon(
        &self,
        trainer: &AonMetaTrainer,
        validation: &[InnerProblem],
        manifest: &mut Manifest,
        progress: &mut dyn FnMut(MetaProgress),
    ) -> Result<()> {
        let Some(selection) = &self.config.aon_selection else {
            return Ok(());
        };
        let step = trainer.meta_steps();
        let due =
            step == 0 || step.is_multiple_of(selection.every) || step >= self.config.aon_meta_steps;
        if validation.is_empty() || !due || manifest.aon_validation.iter().any(|v| v.step == step) {
            return Ok(());
        }
        let loss = trainer.meta_loss_on(validation)?;
        manifest.aon_validation.push(AonValidation { step, loss });
        let is_best = manifest.best_aon_validation().map(|best| best.step) == Some(step);
        if is_best {
            // Its own folder first, then the manifest that points to it: the
            // manifest is the commit point, and the previous best stays whole
            // until the manifest no longer needs it.
            let aon = trainer.aon();
            save_replacing(&aon_best_dir(&self.out, step), |dir| Ok(aon.save(dir)?))?;
            manifest.aon_best_step = Some(step);
        }
        manifest.write(&self.out)?;
        if is_best {
            remove_other_best_aons(&self.out, step);
        }
        progress(MetaProgress::AonValidated {
            step,
            loss,
            best_step: manifest.aon_best_step.unwrap_or(step),
        });
        Ok(())
    }

    /// Runs (or resumes) meta-training on `sources` and, when the config has
    /// an AON, image tasks from `images`. Returns the meta-model when
    /// complete, `None` when the time limit paused it.
    ///
    /// # Errors
    /// [`MetaError::Mismatch`] when the folder holds another meta-training;
    /// [`MetaError::InvalidConfig`] when an AON is configured without images;
    /// the errors of the AEN, the AON and the files.
    pub fn run(
        &self,
        sources: &SourceTasks,
        images: Option<&ImageDataset>,
        progress: &mut dyn FnMut(MetaProgress),
    ) -> Result<Option<MetaModel>> {
        let started = Instant::now();
        std::fs::create_dir_all(&self.out).map_err(io_error(&self.out))?;
        let fresh = Manifest::new(self.config.clone(), sources.selection.clone());
        let mut manifest = match Manifest::read(&self.out)? {
            Some(stored) if stored.identity() != fresh.identity() => {
                return Err(MetaError::Mismatch {
                    path: self.out.join(crate::manifest::MANIFEST_FILE),
                    stored: stored.identity(),
                    requested: fresh.identity(),
                });
            }
            Some(stored) => stored,
            None => fresh,
        };
        manifest.write(&self.out)?;
        let seconds_before = manifest.seconds;
        let out_of_time = |manifest: &Manifest| {
            self.max_seconds
                .is_some_and(|limit| started.elapsed().as_secs_f64() >= limit)
                && !manifest.is_complete()
        };

        // Stage 1: the AEN.
        if manifest.aen_done {
            progress(MetaProgress::AenDone { resumed: true });
        } else {
            progress(MetaProgress::AenStarted {
                tasks: sources.tasks.len(),
                cells: sources.encodings.len(),
                members: self.config.aen.ensemble,
            });
            let aen_config = self
                .config
                .aen
                .clone()
                .with_training(self.config.aen.training.clone().with_seed(self.config.seed));
            let meta = MetaAen::meta_train(
                &sources.encodings,
                &sources.tasks,
                &aen_config,
                &self.device,
            )?;
            save_replacing(&self.out.join(AEN_DIR), |dir| Ok(meta.save(dir)?))?;
            manifest.aen_curves = meta
                .reports()
                .iter()
                .enumerate()
                .map(|(member, r)| AenCurve {
                    member,
                    epoch_losses: r.epoch_losses.clone(),
                    best_epoch: r.best_epoch,
                })
                .collect();
            manifest.aen_done = true;
            manifest.seconds = seconds_before + started.elapsed().as_secs_f64();
            manifest.write(&self.out)?;
            progress(MetaProgress::AenDone { resumed: false });
        }

        // Stage 1b: the choice of the AON's settings per candidate.
        if let Some((rows, table)) = &self.aon_settings_table
            && manifest.aon_settings_chooser.is_none()
        {
            let aen = MetaAen::load(&self.out.join(AEN_DIR), &self.device)?;
            let fitted = fit_settings_chooser(
                Some(&aen),
                rows,
                &table_settings(rows),
                table,
                SettingsChooserConfig::default(),
            )?;
            // The file first, then the manifest that names it (the commit point).
            fitted
                .for_search()?
                .save(&self.out.join(AON_SETTINGS_CHOOSER_FILE))?;
            let record = fitted.record;
            progress(MetaProgress::AonSettingsChooserFitted {
                record: Box::new(record.clone()),
            });
            manifest.aon_settings_chooser = Some(record);
            manifest.holds = manifest.parts();
            manifest.seconds = seconds_before + started.elapsed().as_secs_f64();
            manifest.write(&self.out)?;
        }

        // Stage 2: the AON.
        if let Some(aon_config) = &self.config.aon
            && !manifest.aon_done
        {
            let images = images.ok_or_else(|| {
                MetaError::InvalidConfig(
                    "the AON is meta-trained on image tasks: give an image dataset".into(),
                )
            })?;
            let checkpoint = self.out.join(AON_CHECKPOINT_DIR);
            finish_interrupted_swap(&checkpoint)?;
            if let Some(step) = manifest.aon_best_step {
                finish_interrupted_swap(&aon_best_dir(&self.out, step))?;
            }
            let mut trainer = if manifest.aon_steps_done > 0 && checkpoint.exists() {
                let trainer = AonMetaTrainer::load(&checkpoint, images.clone(), &self.device)?;
                progress(MetaProgress::AonResumed {
                    steps_done: trainer.meta_steps(),
                });
                trainer
            } else {
                AonMetaTrainer::new(aon_config.clone(), images.clone(), &self.device)?
            };
            // The checkpoint is the truth: steps after it were lost.
            manifest.aon_curve.truncate(trainer.meta_steps());
            manifest
                .aon_validation
                .retain(|v| v.step <= trainer.meta_steps());
            if manifest
                .aon_best_step
                .is_some_and(|best| best > trainer.meta_steps())
            {
                // The best AON is of the lost steps: score again from here.
                manifest.aon_validation.clear();
                manifest.aon_best_step = None;
            }
            let validation = self.aon_validation_problems(&trainer);
            self.validate_aon(&trainer, &validation, &mut manifest, progress)?;
            let first = trainer.meta_steps();
            while trainer.meta_steps() < self.config.aon_meta_steps {
                let chunk_done = self
                    .max_new_aon_steps
                    .is_some_and(|n| trainer.meta_steps() - first >= n);
                if out_of_time(&manifest) || chunk_done {
                    if trainer.meta_steps() > manifest.aon_steps_done {
                        save_replacing(&checkpoint, |dir| Ok(trainer.save(dir)?))?;
                        manifest.aon_steps_done = trainer.meta_steps();
                    }
                    manifest.seconds = seconds_before + started.elapsed().as_secs_f64();
                    manifest.write(&self.out)?;
                    progress(MetaProgress::Paused);
                    return Ok(None);
                }
                let step = trainer.meta_steps();
                // Each step is a function of the checkpointed state and its
                // own seed (its problems' weights are drawn from seeds this
                // generator draws), so a resumed run takes the same steps.
                let step_seed =
                    self.config.seed ^ 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(step as u64 + 1);
                let mut rng = StdRng::seed_from_u64(step_seed);
                let report = trainer.meta_step(&mut rng)?;
                let point = AonPoint {
                    step: trainer.meta_steps(),
                    meta_loss: report.meta_loss,
                    train_loss: report.train_loss,
                    seconds: report.seconds,
                };
                manifest.aon_curve.push(point.clone());
                let done = trainer.meta_steps() >= self.config.aon_meta_steps;
                // Scores are taken at checkpoints only (so each belongs to a
                // checkpointed AON): a step due for scoring is checkpointed too.
                let due_for_scoring = self
                    .config
                    .aon_selection
                    .as_ref()
                    .is_some_and(|selection| trainer.meta_steps() % selection.every == 0);
                let checkpointed = done
                    || due_for_scoring
                    || trainer.meta_steps() % self.config.checkpoint_every == 0;
                if checkpointed {
                    save_replacing(&checkpoint, |dir| Ok(trainer.save(dir)?))?;
                    manifest.aon_steps_done = trainer.meta_steps();
                    manifest.seconds = seconds_before + started.elapsed().as_secs_f64();
                    manifest.write(&self.out)?;
                }
                progress(MetaProgress::AonStep {
                    point,
                    total: self.config.aon_meta_steps,
                    checkpointed,
                });
                if checkpointed {
                    self.validate_aon(&trainer, &validation, &mut manifest, progress)?;
                }
            }
            let kept = match manifest.aon_best_step {
                Some(step) => Aon::load(&aon_best_dir(&self.out, step), &self.device)?,
                None => trainer.aon(),
            };
            save_replacing(&self.out.join(AON_DIR), |dir| Ok(kept.save(dir)?))?;
            manifest.aon_done = true;
            manifest.write(&self.out)?;
        }

        // Stage 3: cells measured on the image task, the prior of image searches.
        if manifest.image_observations.len() < self.config.image_cells {
            let images = images.ok_or_else(|| {
                MetaError::InvalidConfig(
                    "measuring cells on an image task needs an image dataset".into(),
                )
            })?;
            let aon = if manifest.aon_done {
                Some(Aon::load(&self.out.join(AON_DIR), &self.device)?)
            } else {
                None
            };
            let task = FixedTask::new(
                images,
                metanas_search::CANDIDATE_VALIDATION_FRACTION,
                self.config.seed,
            )?
            .into_task();
            let chance = 100.0 / task.ways().max(1) as f64;
            let size = NetworkSize {
                channels: self.config.image_channels,
                cells_per_stage: self.config.image_cells_per_stage,
            };
            let training = metanas_search::candidate_training(self.config.image_steps);
            let mut evaluator = TrainingEvaluator::<Nb201Space>::new(
                task,
                size,
                training,
                self.device.clone().autodiff(),
            );
            if let Some(aon) = aon {
                evaluator = evaluator.with_aon(aon, "meta-model");
            }
            manifest.image_task = Some(Evaluator::<Nb201Space>::describe(&evaluator));
            let cells = image_cells(self.config.image_cells, self.config.seed);
            while manifest.image_observations.len() < self.config.image_cells {
                if out_of_time(&manifest) {
                    manifest.seconds = seconds_before + started.elapsed().as_secs_f64();
                    manifest.write(&self.out)?;
                    progress(MetaProgress::Paused);
                    return Ok(None);
                }
                let i = manifest.image_observations.len();
                let arch = cells[i];
                let seed = self.config.seed.wrapping_mul(7919).wrapping_add(i as u64);
                let clock = Instant::now();
                // A diverged candidate is measured at chance: it is a real outcome of this cell.
                let accuracy = match evaluator.evaluate(&arch, seed) {
                    Ok(m) => m.objective,
                    Err(metanas_search::SearchError::Net(metanas_net::NetError::Diverged {
                        ..
                    })) => chance,
                    Err(e) => {
                        return Err(MetaError::InvalidConfig(format!(
                            "measuring {}: {e}",
                            Nb201Space.format(&arch)
                        )));
                    }
                };
                manifest.image_observations.push(ImageObservation {
                    arch: Nb201Space.format(&arch),
                    accuracy,
                    seconds: clock.elapsed().as_secs_f64(),
                });
                manifest.seconds = seconds_before + started.elapsed().as_secs_f64();
                manifest.write(&self.out)?;
                progress(MetaProgress::ImageCell {
                    done: i + 1,
                    total: self.config.image_cells,
                    arch: Nb201Space.format(&arch),
                    accuracy,
                });
            }
        }
        manifest.seconds = seconds_before + started.elapsed().as_secs_f64();
        manifest.write(&self.out)?;
        Ok(Some(MetaModel::load(&self.out, &self.device)?))
    }
}

/// `count` distinct NB201 cells (distinct live graphs), drawn with `seed`.
fn image_cells(count: usize, seed: u64) -> Vec<Nb201Cell> {
    let space = Nb201Space;
    let mut rng = StdRng::seed_from_u64(seed ^ 0x1a2b_3c4d);
    let mut seen = HashSet::new();
    let mut cells = Vec::with_capacity(count);
    while cells.len() < count {
        let cell = space.sample(&mut rng);
        if seen.insert(space.canonical_hash(&cell)) {
            cells.push(cell);
        }
    }
    cells
}

/// Deletes the `aon-best-<step>` folders of `out` other than `keep`'s
/// (leftovers of replaced bests, or of a crash before the manifest named them).
fn remove_other_best_aons(out: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(out) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(step) = name.to_str().and_then(|n| n.strip_prefix(AON_BEST_PREFIX)) else {
            continue;
        };
        if step.parse::<usize>().is_ok_and(|step| step != keep) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Puts `dir.old` back as `dir` when a swap by [`save_replacing`] was
/// interrupted between its two renames.
fn finish_interrupted_swap(dir: &Path) -> Result<()> {
    let old = dir.with_extension("old");
    if !dir.exists() && old.exists() {
        std::fs::rename(&old, dir).map_err(io_error(dir))?;
    }
    Ok(())
}

/// Writes into `dir.partial` with `save`, then swaps it in for `dir`.
fn save_replacing(dir: &Path, save: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    finish_interrupted_swap(dir)?;
    let staging = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(io_error(&staging))?;
    save(&staging)?;
    let old = dir.with_extension("old");
    let _ = std::fs::remove_dir_all(&old);
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(io_error(dir))?;
    }
    std::fs::rename(&staging, dir).map_err(io_error(dir))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}
