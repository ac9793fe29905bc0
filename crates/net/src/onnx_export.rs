//! A trained [`CellNetwork`] as an ONNX model, written from the network's own
//! structure (not traced): every block becomes the standard operators that
//! compute it in inference.
//!
//! | metanas | ONNX |
//! |---|---|
//! | input normalisation (`(x - mean[c]) / std[c]`) | `Sub`, `Mul` (by `1 / std`) |
//! | convolution without bias, explicit padding | `Conv` |
//! | batch norm (running statistics) | `BatchNormalization` |
//! | ReLU | `Relu` |
//! | `avg_pool_3x3` (padding not counted) | `AveragePool` (`count_include_pad = 0`) |
//! | 3×3 max pooling (NAS-Bench-101) | `MaxPool` |
//! | node sums, residual | `Add` |
//! | a node without inputs (`none` edges only) | `Mul` of the cell's input by 0 |
//! | odd size before a reduction | `Pad` (zeros, bottom and right) |
//! | reduction shortcut (2×2 average) | `AveragePool` |
//! | global average pooling, classifier | `GlobalAveragePool`, `Flatten`, `Gemm` |
//! | class probabilities | `Softmax` |
//!
//! `none` edges are not in the network (a node sums only its other edges), so
//! they are not in the graph either. The graph takes pixels in `[0, 1]`, as
//! the metanas loaders give them, and applies the saved normalisation itself.

use crate::cell::Cell;
use crate::cell_layer::CellLayer;
use crate::cell_network::{CellNetwork, CellNetworkConfig, NetworkBlock};
use crate::conv_bn::ConvBn;
use crate::error::{NetError, Result};
use crate::onnx_protobuf::{Attribute, Dimension, Initializer, Model, Node, ValueInfo};
use crate::resnet_block::ResNetBlock;
use crate::saved_model::ModelMetadata;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::nn::{BatchNorm, Linear, PaddingConfig2d};
use burn::tensor::Tensor;
use metanas_data::Normalisation;

/// The ONNX operator set the exported graphs use (ONNX 1.12).
pub const ONNX_OPSET: i64 = 17;
/// The ONNX IR version that goes with [`ONNX_OPSET`].
pub const ONNX_IR_VERSION: i64 = 8;
/// Name of the exported graph's input: pixels in `[0, 1]`, `[batch, C, H, W]`.
pub const ONNX_INPUT: &str = "pixels";
/// Name of the exported graph's class scores (`[batch, classes]`).
pub const ONNX_LOGITS: &str = "logits";
/// Name of the exported graph's class probabilities (softmax of the logits).
pub const ONNX_PROBABILITIES: &str = "probabilities";

/// The ONNX model (serialized `ModelProto`) of `network`, built with `config`,
/// that takes pixels in `[0, 1]` and applies `metadata`'s normalisation.
///
/// # Errors
/// [`NetError::Export`] for a layer the exporter cannot write (a
/// convolution with `Same` padding: the networks of this crate never use it)
/// or weights that cannot be read.
pub fn onnx_model(
    network: &CellNetwork,
    config: &CellNetworkConfig,
    metadata: &ModelMetadata,
) -> Result<Vec<u8>> {
    let mut graph = GraphBuilder::default();
    let [c, h, w] = config.input_shape;
    let mut x = ONNX_INPUT.to_string();
    if let Some(normalisation) = &metadata.normalisation {
        x = graph.normalise(&x, normalisation, c)?;
    }
    let mut size = [h, w];
    x = graph.conv_bn(&network.stem, &x, "stem", Activation::None)?;
    let (mut stage, mut cell_index) = (0, 0);
    for block in &network.blocks {
        x = match block {
            NetworkBlock::Cell(cell) => {
                cell_index += 1;
                let name = format!("stage{stage}.cell{cell_index}");
                graph.cell(cell, config, &x, &name)?
            }
            NetworkBlock::Reduction(reduction) => {
                stage += 1;
                cell_index = 0;
                let name = format!("stage{stage}.reduction");
                let out = graph.reduction(reduction, &x, size, &name)?;
                size = [size[0].div_ceil(2), size[1].div_ceil(2)];
                out
            }
        };
    }
    x = graph.batch_norm(&network.last_bn, &x, "head.bn")?;
    x = graph.unary("Relu", &x, "head.relu");
    x = graph.unary("GlobalAveragePool", &x, "head.pool");
    x = graph.node(
        "Flatten",
        vec![x],
        "head.flatten",
        vec![("axis", Attribute::Int(1))],
    );
    graph.linear(&network.classifier, &x, ONNX_LOGITS)?;
    graph.nodes.push(Node {
        name: ONNX_PROBABILITIES.into(),
        op_type: "Softmax",
        inputs: vec![ONNX_LOGITS.into()],
        outputs: vec![ONNX_PROBABILITIES.into()],
        attributes: vec![("axis", Attribute::Int(1))],
    });
    let batch = || Dimension::Param("batch");
    let classes = config.num_classes;
    let normalised = match &metadata.normalisation {
        Some(_) => "the graph normalises them with the training set's mean and deviation",
        None => "the graph uses them as they are",
    };
    let model = Model {
        ir_version: ONNX_IR_VERSION,
        opset: ONNX_OPSET,
        producer_name: "metanas",
        producer_version: env!("CARGO_PKG_VERSION"),
        doc: format!(
            "{} cell {} in NAS-Bench-201's skeleton (C = {}, N = {})",
            metadata.space, metadata.architecture, config.channels, config.cells_per_stage
        ),
        metadata: metadata_entries(metadata),
        graph_name: "metanas_cell_network".into(),
        nodes: graph.nodes,
        initializers: graph.initializers,
        inputs: vec![ValueInfo {
            name: ONNX_INPUT.into(),
            dims: vec![
                batch(),
                Dimension::Value(c),
                Dimension::Value(h),
                Dimension::Value(w),
            ],
            doc: format!("images, channel-major, pixels in [0, 1]; {normalised}"),
        }],
        outputs: vec![
            ValueInfo {
                name: ONNX_LOGITS.into(),
                dims: vec![batch(), Dimension::Value(classes)],
                doc: "class scores".into(),
            },
            ValueInfo {
                name: ONNX_PROBABILITIES.into(),
                dims: vec![batch(), Dimension::Value(classes)],
                doc: "softmax of the class scores".into(),
            },
        ],
    };
    Ok(model.encode())
}

/// The model's `metadata_props`: space, architecture and class names.
fn metadata_entries(metadata: &ModelMetadata) -> Vec<(String, String)> {
    let mut entries = vec![
        ("space".to_string(), metadata.space.clone()),
        ("architecture".to_string(), metadata.architecture.clone()),
    ];
    if let Some(names) = &metadata.class_names {
        entries.push((
            "class_names".to_string(),
            serde_json::to_string(names).unwrap_or_default(),
        ));
    }
    entries
}

/// The activation of a convolution + batch-norm block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activation {
    None,
    Before,
    After,
}

/// Nodes and weights, collected in topological order.
#[derive(Debug, Default)]
struct GraphBuilder {
    nodes: Vec<Node>,
    initializers: Vec<Initializer>,
}

impl GraphBuilder {
    /// Adds a node with one output, named `name`; returns the output's name.
    fn node(
        &mut self,
        op_type: &'static str,
        inputs: Vec<String>,
        name: &str,
        attributes: Vec<(&'static str, Attribute)>,
    ) -> String {
        self.nodes.push(Node {
            name: name.to_string(),
            op_type,
            inputs,
            outputs: vec![name.to_string()],
            attributes,
        });
        name.to_string()
    }

    fn unary(&mut self, op_type: &'static str, x: &str, name: &str) -> String {
        self.node(op_type, vec![x.to_string()], name, Vec::new())
    }

    /// Adds a float constant; returns its name.
    fn constant(&mut self, name: String, dims: Vec<usize>, values: &[f32]) -> String {
        self.initializers
            .push(Initializer::floats(name.clone(), dims, values));
        name
    }

    /// Adds a tensor's values as a constant of the same shape.
    fn weight<const D: usize>(&mut self, name: String, tensor: Tensor<D>) -> Result<String> {
        let dims = tensor.dims().to_vec();
        let values = tensor
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .map_err(|e| NetError::Export(format!("weights of {name}: {e:?}")))?;
        Ok(self.constant(name, dims, &values))
    }

    /// `(x - mean[c]) · (1 / std[c])`, as [`Normalisation::apply`] computes it.
    fn normalise(
        &mut self,
        x: &str,
        normalisation: &Normalisation,
        channels: usize,
    ) -> Result<String> {
        let mean: Vec<f32> = (0..channels)
            .map(|c| normalisation.mean.get(c).copied().unwrap_or(0.0))
            .collect();
        let scale: Vec<f32> = (0..channels)
            .map(|c| {
                normalisation
                    .std
                    .get(c)
                    .map_or(1.0, |s| 1.0 / s.max(Normalisation::MIN_STD))
            })
            .collect();
        let mean = self.constant("input.mean".into(), vec![1, channels, 1, 1], &mean);
        let scale = self.constant("input.inverse_std".into(), vec![1, channels, 1, 1], &scale);
        let centred = self.node("Sub", vec![x.into(), mean], "input.centred", Vec::new());
        Ok(self.node("Mul", vec![centred, scale], "input.normalised", Vec::new()))
    }

    fn conv(&mut self, conv: &Conv2d, x: &str, name: &str) -> Result<String> {
        let pads = match conv.padding {
            PaddingConfig2d::Valid => [0, 0, 0, 0],
            // Burn's order is (top, left, bottom, right), ONNX's
            // [top, left, bottom, right] too (begins, then ends).
            PaddingConfig2d::Explicit(top, left, bottom, right) => [top, left, bottom, right],
            PaddingConfig2d::Same => {
                return Err(NetError::Export(format!(
                    "{name}: convolutions with `Same` padding are not exported"
                )));
            }
        };
        let mut inputs = vec![
            x.to_string(),
            self.weight(format!("{name}.weight"), conv.weight.val())?,
        ];
        if let Some(bias) = &conv.bias {
            inputs.push(self.weight(format!("{name}.bias"), bias.val())?);
        }
        let ints = |v: &[usize]| Attribute::Ints(v.iter().map(|&x| x as i64).collect());
        Ok(self.node(
            "Conv",
            inputs,
            name,
            vec![
                ("kernel_shape", ints(&conv.kernel_size)),
                ("strides", ints(&conv.stride)),
                ("pads", ints(&pads)),
                ("dilations", ints(&conv.dilation)),
                ("group", Attribute::Int(conv.groups as i64)),
            ],
        ))
    }

    /// Inference batch norm: `(x - running_mean) / sqrt(running_var + ε) · γ + β`.
    fn batch_norm(&mut self, norm: &BatchNorm, x: &str, name: &str) -> Result<String> {
        let inputs = vec![
            x.to_string(),
            self.weight(format!("{name}.gamma"), norm.gamma.val())?,
            self.weight(format!("{name}.beta"), norm.beta.val())?,
            self.weight(format!("{name}.running_mean"), norm.running_mean.value())?,
            self.weight(format!("{name}.running_var"), norm.running_var.value())?,
        ];
        Ok(self.node(
            "BatchNormalization",
            inputs,
            name,
            vec![("epsilon", Attribute::Float(norm.epsilon as f32))],
        ))
    }

    fn conv_bn(
        &mut self,
        block: &ConvBn,
        x: &str,
        name: &str,
        activation: Activation,
    ) -> Result<String> {
        let mut x = x.to_string();
        if activation == Activation::Before {
            x = self.unary("Relu", &x, &format!("{name}.relu"));
        }
        x = self.conv(&block.conv, &x, &format!("{name}.conv"))?;
        x = self.batch_norm(&block.bn, &x, &format!("{name}.bn"))?;
        if activation == Activation::After {
            x = self.unary("Relu", &x, &format!("{name}.relu_after"));
        }
        Ok(x)
    }

    fn linear(&mut self, linear: &Linear, x: &str, name: &str) -> Result<String> {
        let mut inputs = vec![
            x.to_string(),
            // `[d_input, d_output]`: Gemm's B without transposition.
            self.weight("classifier.weight".into(), linear.weight.val())?,
        ];
        if let Some(bias) = &linear.bias {
            inputs.push(self.weight("classifier.bias".into(), bias.val())?);
        }
        Ok(self.node("Gemm", inputs, name, Vec::new()))
    }

    fn max_pool(&mut self, pool: &MaxPool2d, x: &str, name: &str) -> Result<String> {
        let pads = match pool.padding {
            PaddingConfig2d::Valid => [0, 0, 0, 0],
            PaddingConfig2d::Explicit(top, left, bottom, right) => [top, left, bottom, right],
            PaddingConfig2d::Same => {
                return Err(NetError::Export(format!(
                    "{name}: pooling with `Same` padding is not exported"
                )));
            }
        };
        let ints = |v: &[usize]| Attribute::Ints(v.iter().map(|&x| x as i64).collect());
        Ok(self.node(
            "MaxPool",
            vec![x.to_string()],
            name,
            vec![
                ("kernel_shape", ints(&pool.kernel_size)),
                ("strides", ints(&pool.stride)),
                ("pads", ints(&pads)),
                ("dilations", ints(&pool.dilation)),
            ],
        ))
    }

    /// One operation of a cell on `x`.
    fn layer(&mut self, layer: &CellLayer, x: &str, name: &str) -> Result<String> {
        match layer {
            CellLayer::Identity(_) => Ok(x.to_string()),
            CellLayer::ReluConvBn(block) => self.conv_bn(block, x, name, Activation::Before),
            CellLayer::ConvBnRelu(block) => self.conv_bn(block, x, name, Activation::After),
            CellLayer::AvgPool(_) => Ok(self.node(
                "AveragePool",
                vec![x.to_string()],
                &format!("{name}.avg_pool"),
                vec![
                    ("kernel_shape", Attribute::Ints(vec![3, 3])),
                    ("strides", Attribute::Ints(vec![1, 1])),
                    ("pads", Attribute::Ints(vec![1, 1, 1, 1])),
                    ("count_include_pad", Attribute::Int(0)),
                ],
            )),
            CellLayer::MaxPool(pool) => self.max_pool(pool, x, &format!("{name}.max_pool")),
        }
    }

    fn add(&mut self, sum: Option<String>, term: String, name: &str) -> String {
        match sum {
            Some(sum) => self.node("Add", vec![sum, term], name, Vec::new()),
            None => term,
        }
    }

    /// The cell as [`Cell::forward`] computes it: the same needed nodes,
    /// sums in the same order, zero for a node without inputs.
    fn cell(
        &mut self,
        cell: &Cell,
        config: &CellNetworkConfig,
        input: &str,
        name: &str,
    ) -> Result<String> {
        let plan = &config.plan;
        let needed = plan.needed_nodes();
        let mut zero: Option<String> = None;
        let mut zeros = |graph: &mut Self| -> String {
            zero.get_or_insert_with(|| {
                let factor = graph.constant(format!("{name}.zero_factor"), Vec::new(), &[0.0]);
                graph.node(
                    "Mul",
                    vec![input.to_string(), factor],
                    &format!("{name}.zero"),
                    Vec::new(),
                )
            })
            .clone()
        };
        let mut node_layer = Vec::with_capacity(plan.nodes);
        let mut count = 0;
        for op in &plan.node_ops {
            node_layer.push(op.map(|_| {
                count += 1;
                count - 1
            }));
        }
        let mut values: Vec<Option<String>> = vec![None; plan.nodes];
        let mut sums: Vec<Option<String>> = vec![None; plan.nodes];
        for node in 0..plan.nodes {
            if !needed[node] {
                continue;
            }
            values[node] = if node == 0 {
                Some(input.to_string())
            } else {
                match (node_layer[node], sums[node].take()) {
                    (Some(layer), sum) => {
                        let sum = sum.unwrap_or_else(|| zeros(self));
                        Some(self.layer(
                            &cell.node_layers[layer],
                            &sum,
                            &format!("{name}.node{node}"),
                        )?)
                    }
                    (None, sum) => sum,
                }
            };
            for (index, edge) in plan.edges.iter().enumerate() {
                if edge.from != node || !needed[edge.to] {
                    continue;
                }
                let source = match &values[node] {
                    Some(value) => value.clone(),
                    None => zeros(self),
                };
                let edge_name = format!("{name}.edge{}to{}", edge.from, edge.to);
                let out = self.layer(&cell.edge_layers[index], &source, &edge_name)?;
                let sum = sums[edge.to].take();
                sums[edge.to] = Some(self.add(sum, out, &format!("{edge_name}.sum")));
            }
        }
        Ok(match values[plan.nodes - 1].take() {
            Some(value) => value,
            None => zeros(self),
        })
    }

    /// The stride-2 ResNet block as [`ResNetBlock::forward`] computes it, on
    /// an input of spatial size `[h, w]`.
    fn reduction(
        &mut self,
        block: &ResNetBlock,
        x: &str,
        [h, w]: [usize; 2],
        name: &str,
    ) -> Result<String> {
        let mut x = x.to_string();
        if h % 2 == 1 || w % 2 == 1 {
            // pads: [begin of each axis, then end of each axis] of [b, c, h, w].
            let pads = self.initializers.len();
            self.initializers.push(Initializer::ints(
                format!("{name}.pads{pads}"),
                vec![8],
                &[0, 0, 0, 0, 0, 0, (h % 2) as i64, (w % 2) as i64],
            ));
            x = self.node(
                "Pad",
                vec![x, format!("{name}.pads{pads}")],
                &format!("{name}.pad"),
                vec![],
            );
        }
        let pooled = self.node(
            "AveragePool",
            vec![x.clone()],
            &format!("{name}.shortcut_pool"),
            vec![
                ("kernel_shape", Attribute::Ints(vec![2, 2])),
                ("strides", Attribute::Ints(vec![2, 2])),
            ],
        );
        let residual = self.conv(
            &block.shortcut_conv,
            &pooled,
            &format!("{name}.shortcut_conv"),
        )?;
        let a = self.conv_bn(
            &block.conv_a,
            &x,
            &format!("{name}.conv_a"),
            Activation::Before,
        )?;
        let b = self.conv_bn(
            &block.conv_b,
            &a,
            &format!("{name}.conv_b"),
            Activation::Before,
        )?;
        Ok(self.node("Add", vec![residual, b], &format!("{name}.sum"), Vec::new()))
    }
}
