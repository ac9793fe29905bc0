//! The subset of ONNX's protobuf messages that an exported network needs,
//! written straight to protobuf's wire format (no protobuf dependency).
//!
//! Field numbers are those of `onnx.proto` (ONNX 1.12+, a proto2 file):
//! `ModelProto`, `OperatorSetIdProto`, `GraphProto`, `NodeProto`,
//! `AttributeProto`, `TensorProto` (tensor data as `raw_data`, little
//! endian), `ValueInfoProto`, `TypeProto.Tensor` and `TensorShapeProto`.
//! Repeated scalars are written unpacked, as proto2 does by default (every
//! protobuf reader also accepts them packed).

/// Protobuf wire types.
const VARINT: u32 = 0;
const FIXED32: u32 = 5;
const LENGTH_DELIMITED: u32 = 2;

/// `TensorProto.DataType` of 32-bit floats.
pub(crate) const FLOAT: i32 = 1;
/// `TensorProto.DataType` of 64-bit integers.
pub(crate) const INT64: i32 = 7;

/// A protobuf message being written.
#[derive(Debug, Default)]
struct Message(Vec<u8>);

impl Message {
    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.0.push((value as u8 & 0x7f) | 0x80);
            value >>= 7;
        }
        self.0.push(value as u8);
    }

    fn key(&mut self, field: u32, wire_type: u32) {
        self.varint(u64::from((field << 3) | wire_type));
    }

    /// An `int32`/`int64`/enum field (negative values as ten-byte varints, as protobuf does).
    fn int(&mut self, field: u32, value: i64) {
        self.key(field, VARINT);
        self.varint(value as u64);
    }

    fn float(&mut self, field: u32, value: f32) {
        self.key(field, FIXED32);
        self.0.extend_from_slice(&value.to_le_bytes());
    }

    fn bytes(&mut self, field: u32, value: &[u8]) {
        self.key(field, LENGTH_DELIMITED);
        self.varint(value.len() as u64);
        self.0.extend_from_slice(value);
    }

    fn string(&mut self, field: u32, value: &str) {
        self.bytes(field, value.as_bytes());
    }

    fn message(&mut self, field: u32, value: &Message) {
        self.bytes(field, &value.0);
    }
}

/// An attribute of a node (`AttributeProto`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Attribute {
    /// `type = INT`.
    Int(i64),
    /// `type = INTS`.
    Ints(Vec<i64>),
    /// `type = FLOAT`.
    Float(f32),
}

/// A node of the graph (`NodeProto`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// Unique name.
    pub name: String,
    /// Operator (`Conv`, `Relu`, …) of the default domain.
    pub op_type: &'static str,
    /// Input value names (an empty name is an omitted optional input).
    pub inputs: Vec<String>,
    /// Output value names.
    pub outputs: Vec<String>,
    /// Attributes by name.
    pub attributes: Vec<(&'static str, Attribute)>,
}

/// A constant of the graph (`TensorProto`): 32-bit floats or 64-bit integers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Initializer {
    /// The value's name.
    pub name: String,
    /// Dimensions.
    pub dims: Vec<usize>,
    /// `FLOAT` or `INT64`.
    pub data_type: i32,
    /// Little-endian values.
    pub raw_data: Vec<u8>,
}

impl Initializer {
    /// A float tensor.
    pub fn floats(name: String, dims: Vec<usize>, values: &[f32]) -> Self {
        Self {
            name,
            dims,
            data_type: FLOAT,
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// A 64-bit integer tensor.
    pub fn ints(name: String, dims: Vec<usize>, values: &[i64]) -> Self {
        Self {
            name,
            dims,
            data_type: INT64,
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
}

/// One dimension of a graph input or output: fixed, or named (e.g. the batch).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Dimension {
    /// A fixed size.
    Value(usize),
    /// A symbolic size.
    Param(&'static str),
}

/// A float tensor input or output of the graph (`ValueInfoProto`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ValueInfo {
    /// The value's name.
    pub name: String,
    /// Its shape.
    pub dims: Vec<Dimension>,
    /// A description for the reader of the file.
    pub doc: String,
}

/// A whole model (`ModelProto` with its `GraphProto`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Model {
    /// `ir_version`.
    pub ir_version: i64,
    /// Version of the default (`ai.onnx`) operator set.
    pub opset: i64,
    /// `producer_name`.
    pub producer_name: &'static str,
    /// `producer_version`.
    pub producer_version: &'static str,
    /// `doc_string` of the model.
    pub doc: String,
    /// `metadata_props`: key-value pairs.
    pub metadata: Vec<(String, String)>,
    /// The graph's name.
    pub graph_name: String,
    /// Nodes in topological order.
    pub nodes: Vec<Node>,
    /// Constants (weights).
    pub initializers: Vec<Initializer>,
    /// Graph inputs.
    pub inputs: Vec<ValueInfo>,
    /// Graph outputs.
    pub outputs: Vec<ValueInfo>,
}

impl Model {
    /// The serialized `ModelProto`.
    pub fn encode(&self) -> Vec<u8> {
        let mut model = Message::default();
        model.int(1, self.ir_version);
        model.string(2, self.producer_name);
        model.string(3, self.producer_version);
        model.string(6, &self.doc);
        model.message(7, &self.encode_graph());
        let mut opset = Message::default();
        opset.string(1, "");
        opset.int(2, self.opset);
        model.message(8, &opset);
        for (key, value) in &self.metadata {
            let mut entry = Message::default();
            entry.string(1, key);
            entry.string(2, value);
            model.message(14, &entry);
        }
        model.0
    }

    fn encode_graph(&self) -> Message {
        let mut graph = Message::default();
        for node in &self.nodes {
            graph.message(1, &encode_node(node));
        }
        graph.string(2, &self.graph_name);
        for initializer in &self.initializers {
            graph.message(5, &encode_tensor(initializer));
        }
        for input in &self.inputs {
            graph.message(11, &encode_value_info(input));
        }
        for output in &self.outputs {
            graph.message(12, &encode_value_info(output));
        }
        graph
    }
}

fn encode_node(node: &Node) -> Message {
    let mut message = Message::default();
    for input in &node.inputs {
        message.string(1, input);
    }
    for output in &node.outputs {
        message.string(2, output);
    }
    message.string(3, &node.name);
    message.string(4, node.op_type);
    for (name, attribute) in &node.attributes {
        message.message(5, &encode_attribute(name, attribute));
    }
    message
}

/// `AttributeProto.AttributeType` values.
const ATTRIBUTE_FLOAT: i64 = 1;
const ATTRIBUTE_INT: i64 = 2;
const ATTRIBUTE_INTS: i64 = 7;

fn encode_attribute(name: &str, attribute: &Attribute) -> Message {
    let mut message = Message::default();
    message.string(1, name);
    match attribute {
        Attribute::Float(value) => {
            message.float(2, *value);
            message.int(20, ATTRIBUTE_FLOAT);
        }
        Attribute::Int(value) => {
            message.int(3, *value);
            message.int(20, ATTRIBUTE_INT);
        }
        Attribute::Ints(values) => {
            for &value in values {
                message.int(8, value);
            }
            message.int(20, ATTRIBUTE_INTS);
        }
    }
    message
}

fn encode_tensor(tensor: &Initializer) -> Message {
    let mut message = Message::default();
    for &dim in &tensor.dims {
        message.int(1, dim as i64);
    }
    message.int(2, i64::from(tensor.data_type));
    message.string(8, &tensor.name);
    message.bytes(9, &tensor.raw_data);
    message
}

fn encode_value_info(value: &ValueInfo) -> Message {
    let mut shape = Message::default();
    for dim in &value.dims {
        let mut dimension = Message::default();
        match dim {
            Dimension::Value(size) => dimension.int(1, *size as i64),
            Dimension::Param(name) => dimension.string(2, name),
        }
        shape.message(1, &dimension);
    }
    let mut tensor_type = Message::default();
    tensor_type.int(1, i64::from(FLOAT));
    tensor_type.message(2, &shape);
    let mut type_proto = Message::default();
    type_proto.message(1, &tensor_type);
    let mut message = Message::default();
    message.string(1, &value.name);
    message.message(2, &type_proto);
    message.string(3, &value.doc);
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_keys_follow_the_protobuf_encoding() {
        // Examples of the protobuf encoding guide: 150 is `96 01`; field 1
        // varint 150 is `08 96 01`; -1 as int64 takes ten bytes.
        let mut message = Message::default();
        message.int(1, 150);
        assert_eq!(message.0, [0x08, 0x96, 0x01]);
        let mut message = Message::default();
        message.int(3, -1);
        assert_eq!(message.0.len(), 11);
        assert_eq!(message.0[0], 3 << 3);
        assert_eq!(message.0[10], 0x01);
        // Field 2, a length-delimited "testing" is `12 07 74 65 73 74 69 6e 67`.
        let mut message = Message::default();
        message.string(2, "testing");
        assert_eq!(
            message.0,
            [0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67]
        );
        let mut message = Message::default();
        message.float(2, 1.0);
        assert_eq!(message.0, [0x15, 0x00, 0x00, 0x80, 0x3f]);
    }

    #[test]
    fn a_float_initializer_holds_its_values_little_endian() {
        let tensor = Initializer::floats("w".into(), vec![2], &[1.0, -2.0]);
        let encoded = encode_tensor(&tensor).0;
        // dims (field 1), data_type FLOAT (field 2), name (field 8), raw_data (field 9).
        assert_eq!(&encoded[..6], &[0x08, 0x02, 0x10, 0x01, 0x42, 0x01]);
        assert_eq!(encoded[6], b'w');
        assert_eq!(&encoded[7..9], &[0x4a, 0x08]);
        assert_eq!(&encoded[9..], &[0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
    }
}
