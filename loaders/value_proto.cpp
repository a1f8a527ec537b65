// SequenceProto and OptionalProto files (ONNX test data for sequence and
// optional values), read field by field with protobuf's wire format: the
// onnx_proto library ships TensorProto but not onnx-data.proto's messages.
//   SequenceProto  1 name, 2 elem_type, 3 tensor_values (repeated), 5 sequence_values
//   OptionalProto  1 name, 2 elem_type, 3 tensor_value, 5 sequence_value
// elem_type: 1 tensor, 3 sequence, 5 optional (0: undefined / empty).
#include <google/protobuf/io/coded_stream.h>

#include "normrt/tensor_file.h"
#include "normrt/value.h"
#include "tensor_proto.h"

namespace normrt {

namespace {

using google::protobuf::io::CodedInputStream;

struct Field {
  int number = 0;
  std::string bytes;  // length-delimited fields
  uint64_t varint = 0;
};

// The message's fields in order; Error(InvalidArgument) naming `label` when malformed.
std::vector<Field> read_fields(const std::string& bytes, const std::string& label) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  std::vector<Field> fields;
  const auto bad = [&] { return Error(ErrorCode::InvalidArgument, label + ": malformed SequenceProto/OptionalProto"); };
  while (uint32_t tag = in.ReadTag()) {
    Field f;
    f.number = static_cast<int>(tag >> 3);
    switch (tag & 7) {
      case 0:
        if (!in.ReadVarint64(&f.varint)) throw bad();
        break;
      case 1: {
        uint64_t skip;
        if (!in.ReadLittleEndian64(&skip)) throw bad();
        break;
      }
      case 2: {
        uint32_t len;
        if (!in.ReadVarint32(&len) || len > bytes.size() || !in.ReadString(&f.bytes, static_cast<int>(len)))
          throw bad();
        break;
      }
      case 5: {
        uint32_t skip;
        if (!in.ReadLittleEndian32(&skip)) throw bad();
        break;
      }
      default:
        throw bad();
    }
    fields.push_back(std::move(f));
  }
  if (!in.ConsumedEntireMessage()) throw bad();
  return fields;
}

Value parse_sequence(const std::string& bytes, const std::string& label) {
  std::vector<Tensor> items;
  for (Field& f : read_fields(bytes, label)) {
    if (f.number == 2 && f.varint != 0 && f.varint != 1)
      throw Error(ErrorCode::InvalidArgument, label + ": a sequence of sequences, maps or optionals is not supported");
    if (f.number == 3) items.push_back(parse_tensor_pb(f.bytes, label));
    if (f.number >= 4 && f.number <= 7)
      throw Error(ErrorCode::InvalidArgument, label + ": a sequence of sequences, maps or optionals is not supported");
  }
  return Value::sequence(std::move(items));
}

Value parse_optional(const std::string& bytes, const std::string& label) {
  for (Field& f : read_fields(bytes, label)) {
    if (f.number == 3) return Value::optional(parse_tensor_pb(f.bytes, label));
    if (f.number == 5) return Value::optional(parse_sequence(f.bytes, label));
    if (f.number == 4 || f.number == 6 || f.number == 7)
      throw Error(ErrorCode::InvalidArgument,
                  label + ": an optional of a map, sparse tensor or optional is not supported");
  }
  return Value::none();
}

}  // namespace

Value parse_value_pb(const std::string& bytes, const std::string& label, ValueKind kind) {
  switch (kind) {
    case ValueKind::Sequence:
      return parse_sequence(bytes, label);
    case ValueKind::Optional:
      return parse_optional(bytes, label);
    case ValueKind::Tensor:
      break;
  }
  return parse_tensor_pb(bytes, label);
}

Value read_value_pb(const std::string& path, ValueKind kind) {
  return parse_value_pb(read_file_bytes(path, "value file"), path, kind);
}

}  // namespace normrt
