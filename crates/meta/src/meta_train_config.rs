//! Settings of a meta-training run.

use crate::aon_selection::AonSelection;
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
    /// How the meta-model's AON is chosen among the start and the checkpoints
    /// (`None`: the last meta-step's, as folders of earlier versions did).
    #[config(default = "Some(AonSelection::new())")]
    pub aon_selection: Option<AonSelection>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use metanas_aen::AenConfig;

    #[test]
    fn settings_of_earlier_versions_read_as_keeping_the_last_aon() {
        let config = MetaTrainConfig::new(MetaAenConfig::new(AenConfig::new(7)));
        assert_eq!(
            config.aon_selection,
            Some(AonSelection::new()),
            "new runs select by default"
        );
        let mut json = serde_json::to_value(&config).expect("serialises");
        json.as_object_mut()
            .expect("an object")
            .remove("aon_selection");
        let earlier: MetaTrainConfig =
            serde_json::from_value(json).expect("a folder of an earlier version reads");
        assert_eq!(earlier.aon_selection, None);
    }
}
