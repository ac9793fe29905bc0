//! Settings of a meta-training run.

use burn::config::Config;
use metanas_aen::MetaAenConfig;
use metanas_aon::AonMetaTrainerConfig;

/// Settings of [`crate::MetaTrainer`]. The source tasks and exclusions are
/// chosen separately ([`crate::SourceTasks`]) and recorded beside these.
#[derive(Config, Debug)]
pub struct MetaTrainConfig {
    /// The AEN: shared bodies trained on every source task, head prior.
    pub aen: MetaAenConfig,
    /// The AON and its meta-training (`None`: no AON in this meta-model).
    #[config(default = "None")]
    pub aon: Option<AonMetaTrainerConfig>,
    /// AON meta-steps to take.
    #[config(default = 100)]
    pub aon_meta_steps: usize,
    /// Write an AON checkpoint every this many meta-steps.
    #[config(default = 5)]
    pub checkpoint_every: usize,
    /// Cells measured on the image task (stage 3; 0 skips it): the prior of
    /// searches on new image datasets.
    #[config(default = 24)]
    pub image_cells: usize,
    /// Training steps per measured cell (as the search's real evaluations).
    #[config(default = 100)]
    pub image_steps: usize,
    /// Channels of the measured networks (`C`).
    #[config(default = 8)]
    pub image_channels: usize,
    /// Cells per stage of the measured networks (`N`).
    #[config(default = 1)]
    pub image_cells_per_stage: usize,
    /// Seed of everything random.
    #[config(default = 0)]
    pub seed: u64,
}
