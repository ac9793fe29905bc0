//! The built network is NAS-Bench-201's: parameters and FLOPs of every cell
//! match the benchmark table (`params_mb_*`, `flops_m_*`, which the benchmark
//! computed from its PyTorch network).

use burn::module::Module;
use metanas_data::shipped::nb201_table;
use metanas_net::{CellNetworkConfig, ToCellPlan};

fn check_all(num_classes: usize, params_column: &str, flops_column: &str) {
    let table = nb201_table().expect("shipped NB201 table");
    let params = table.column(params_column).expect("params column");
    let flops = table.column(flops_column).expect("flops column");
    let device = metanas_device::test_device();
    for (row, cell) in table.archs().iter().enumerate() {
        let config = CellNetworkConfig::new(cell.cell_plan(), [3, 32, 32], num_classes);
        let expected_params = (params[row] * 1e6).round() as usize;
        let expected_flops = (flops[row] * 1e6).round() as u64;
        let counted = config.complexity();
        assert_eq!(counted.params, expected_params, "params of {cell}");
        assert_eq!(counted.flops, expected_flops, "FLOPs of {cell}");
        // The Burn module itself (parameters are lazy: nothing is allocated).
        // Burn also counts batch-norm running statistics as parameters.
        let built = config.init(&device).expect("valid config").num_params();
        assert_eq!(
            built,
            expected_params + counted.batch_norm_statistics,
            "built params of {cell}"
        );
    }
}

#[test]
fn cifar10_network_matches_the_table_for_every_cell() {
    check_all(10, "params_mb_c10", "flops_m_c10");
}

#[test]
fn cifar100_network_matches_the_table_for_every_cell() {
    check_all(100, "params_mb_c100", "flops_m_c100");
}
