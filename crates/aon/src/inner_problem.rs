//! The problems an AON learns on and is tested on: a small NAS-Bench-201 cell
//! network and a class-subset task of an image dataset.

use crate::error::AonError;
use burn::config::Config;
use burn::tensor::Device;
use metanas_data::{
    ImageDataset, ImageTask, Normalisation, TaskDistribution, TaskDistributionConfig, TaskSampler,
};
use metanas_net::{CellNetwork, CellNetworkConfig, ToCellPlan, TrainingData};
use metanas_space::SearchSpace;
use metanas_space::nb201::{Nb201Cell, Nb201Space};
use rand::{Rng, RngExt};

/// Which NAS-Bench-201 cells a sampler draws. The space is split once by
/// canonical hash (isomorphic cells fall on the same side): a quarter of it is
/// held out from meta-training for evaluation on unseen cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellPool {
    /// The three quarters meta-training may see.
    MetaTraining,
    /// The quarter it never sees.
    HeldOut,
    /// Every cell.
    All,
}

impl CellPool {
    /// Whether `cell` belongs to this pool.
    pub fn contains(self, cell: &Nb201Cell) -> bool {
        let held_out = Nb201Space.canonical_hash(cell).0.is_multiple_of(4);
        match self {
            Self::MetaTraining => !held_out,
            Self::HeldOut => held_out,
            Self::All => true,
        }
    }
}

/// Settings of the inner problems: network size, task shape, batch size and
/// the length of one training run (the horizon `K`).
#[derive(Config, Debug)]
pub struct InnerProblemConfig {
    /// Smallest first-stage channel count `C` (drawn uniformly between the two bounds).
    #[config(default = 4)]
    pub min_channels: usize,
    /// Largest first-stage channel count `C`.
    #[config(default = 8)]
    pub max_channels: usize,
    /// Cells per stage `N`.
    #[config(default = 1)]
    pub cells_per_stage: usize,
    /// Classes per task.
    #[config(default = 5)]
    pub ways: usize,
    /// Training images per class.
    #[config(default = 100)]
    pub shots: usize,
    /// Validation images per class.
    #[config(default = 40)]
    pub validation_shots: usize,
    /// Images per training batch.
    #[config(default = 16)]
    pub batch_size: usize,
    /// Steps of one training run (`K`): the AON's progress input and the
    /// cosine schedule run over this many steps.
    #[config(default = 100)]
    pub horizon: usize,
    /// Skip cells whose output does not depend on the input (nothing to learn but a bias).
    #[config(default = true)]
    pub connected_cells_only: bool,
}

impl InnerProblemConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`AonError::InvalidConfig`] naming the bad setting.
    pub fn check(&self) -> crate::error::Result<()> {
        let bad = |m: String| Err(AonError::InvalidConfig(m));
        if self.min_channels == 0 || self.min_channels > self.max_channels {
            return bad(format!(
                "channels must satisfy 1 ≤ min ≤ max, got {}..={}",
                self.min_channels, self.max_channels
            ));
        }
        if self.cells_per_stage == 0 {
            return bad("cells_per_stage must be at least 1".into());
        }
        if self.ways < 2 || self.shots == 0 || self.validation_shots == 0 {
            return bad(format!(
                "need ≥ 2 ways and ≥ 1 shot and validation shot, got {} / {} / {}",
                self.ways, self.shots, self.validation_shots
            ));
        }
        if self.batch_size == 0 || self.horizon == 0 {
            return bad("batch_size and horizon must be at least 1".into());
        }
        Ok(())
    }
}

/// One inner problem: a cell, a network width, a task and the seed of the
/// network's initial weights and batch order.
#[derive(Debug, Clone)]
pub struct InnerProblem {
    /// The cell of the network.
    pub cell: Nb201Cell,
    /// First-stage channels `C`.
    pub channels: usize,
    /// Cells per stage `N`.
    pub cells_per_stage: usize,
    /// The task (its own training and validation images).
    pub task: ImageTask,
    /// Per-channel normalisation of the task's training images.
    pub normalisation: Normalisation,
    /// Seed of the initial weights and of the batch order.
    pub seed: u64,
}

impl InnerProblem {
    /// The network's settings.
    pub fn network_config(&self) -> CellNetworkConfig {
        CellNetworkConfig::new(
            self.cell.cell_plan(),
            self.task.train.shape(),
            self.task.ways(),
        )
        .with_channels(self.channels)
        .with_cells_per_stage(self.cells_per_stage)
    }

    /// A fresh network with the problem's initial weights (drawn from [`Self::seed`] alone,
    /// see [`metanas_seeding::seeded`]).
    ///
    /// # Errors
    /// From the network crate, for an impossible network.
    pub fn init_network(&self, device: &Device) -> crate::error::Result<CellNetwork> {
        Ok(metanas_seeding::seeded_module(device, self.seed, || {
            self.network_config().init(device)
        })?)
    }

    /// The problem's training data (normalised by its training images).
    pub fn training_data(&self) -> TrainingData<'_> {
        TrainingData {
            train: &self.task.train,
            validation: Some(&self.task.validation),
            normalisation: Some(&self.normalisation),
        }
    }

    /// One line: cell, width and task.
    pub fn describe(&self) -> String {
        format!(
            "C={} N={} {} on {}",
            self.channels,
            self.cells_per_stage,
            Nb201Space.format(&self.cell),
            self.task.describe()
        )
    }
}

/// Draws inner problems: a cell from a [`CellPool`], a width, a task of a
/// dataset. Seeded by the caller's generator.
#[derive(Debug, Clone)]
pub struct InnerProblemSampler {
    config: InnerProblemConfig,
    tasks: TaskDistribution,
    pool: CellPool,
}

impl InnerProblemSampler {
    /// A sampler of `pool` cells and tasks of `dataset`.
    ///
    /// # Errors
    /// [`AonError::InvalidConfig`] for bad settings; the data crate's error when
    /// the dataset cannot supply such tasks.
    pub fn new(
        config: InnerProblemConfig,
        dataset: ImageDataset,
        pool: CellPool,
    ) -> crate::error::Result<Self> {
        config.check()?;
        let tasks = TaskDistributionConfig::new(config.ways, config.shots)
            .with_validation_shots(config.validation_shots)
            .init(dataset)?;
        Ok(Self {
            config,
            tasks,
            pool,
        })
    }

    /// The settings.
    pub fn config(&self) -> &InnerProblemConfig {
        &self.config
    }

    /// The cell pool.
    pub fn pool(&self) -> CellPool {
        self.pool
    }

    /// A cell of the pool.
    pub fn sample_cell<R: Rng + ?Sized>(&self, rng: &mut R) -> Nb201Cell {
        let mut cell = Nb201Space.sample(rng);
        // A quarter or three quarters of the space qualify: this ends fast.
        for _ in 0..10_000 {
            let connected =
                !self.config.connected_cells_only || Nb201Space.cell_graph(&cell).is_connected();
            if self.pool.contains(&cell) && connected {
                break;
            }
            cell = Nb201Space.sample(rng);
        }
        cell
    }

    /// A problem drawn with `rng`.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> InnerProblem {
        let cell = self.sample_cell(rng);
        let channels = rng.random_range(self.config.min_channels..=self.config.max_channels);
        let task = self.tasks.sample_task(rng);
        let normalisation = task.train.normalisation();
        InnerProblem {
            cell,
            channels,
            cells_per_stage: self.config.cells_per_stage,
            task,
            normalisation,
            seed: rng.random(),
        }
    }
}
