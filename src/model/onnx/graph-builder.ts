import { onnx } from 'onnx-proto';

/** ONNX operator set the exported graph declares (issue 5: 17 or newer). */
export const OPSET_VERSION = 17;

/** IR version 8 is what opset 17 shipped with (ONNX 1.12). */
const IR_VERSION = 8;

export type AttributeValue = number | number[] | { float: number };

/** A tensor shape with `'N'` (or any string) for a symbolic dimension. */
export type ShapeSpec = Array<number | string>;

/**
 * Builds one ONNX graph node by node. Names are generated from a prefix and a
 * counter, so the caller only names what it wants to find again (inputs,
 * outputs); initializers are float32 or int64 constants stored as raw
 * little-endian bytes (onnx.proto TensorProto.raw_data).
 */
export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;

  /** A fresh tensor name under a readable prefix. */
  name(prefix: string): string {
    this.counter += 1;
    return `${prefix}/${this.counter}`;
  }

  input(name: string, shape: ShapeSpec): string {
    this.inputs.push(valueInfo(name, shape));
    return name;
  }

  output(name: string, shape: ShapeSpec): void {
    this.outputs.push(valueInfo(name, shape));
  }

  /** A float32 constant; data is row-major in `dims`. */
  floatConstant(prefix: string, dims: number[], data: ArrayLike<number>): string {
    const bytes = Buffer.alloc(data.length * 4);
    for (let i = 0; i < data.length; i++) bytes.writeFloatLE(data[i], i * 4);
    return this.constant(prefix, dims, onnx.TensorProto.DataType.FLOAT, bytes);
  }

  /** An int64 constant (shapes, axes, split sizes). */
  intConstant(prefix: string, values: number[]): string {
    const bytes = Buffer.alloc(values.length * 8);
    values.forEach((value, i) => bytes.writeBigInt64LE(BigInt(value), i * 8));
    return this.constant(prefix, [values.length], onnx.TensorProto.DataType.INT64, bytes);
  }

  /** Adds a node; returns the names of its outputs (count of them asked). */
  op(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    outputCount = 1,
  ): string[] {
    const outputs = Array.from({ length: outputCount }, () => this.name(opType));
    this.nodes.push({
      opType,
      name: this.name(`${opType}_node`),
      input: inputs,
      output: outputs,
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return outputs;
  }

  /** A single-output node. */
  op1(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}): string {
    return this.op(opType, inputs, attributes)[0];
  }

  /** Gives the value `source` the graph-output name `name` (an Identity node). */
  rename(source: string, name: string): void {
    this.nodes.push({
      opType: 'Identity',
      name: this.name('Identity_node'),
      input: [source],
      output: [name],
    });
  }

  /** The serialized ModelProto. */
  encode(graphName: string, metadata: Record<string, string> = {}): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      producerName: 'ct3dflow',
      opsetImport: [{ domain: '', version: OPSET_VERSION }],
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  private constant(
    prefix: string,
    dims: number[],
    dataType: onnx.TensorProto.DataType,
    rawData: Uint8Array,
  ): string {
    const name = this.name(prefix);
    this.initializers.push({ name, dims, dataType, rawData });
    return name;
  }
}

function valueInfo(name: string, shape: ShapeSpec): onnx.IValueInfoProto {
  const dim = shape.map((edge) =>
    typeof edge === 'string' ? { dimParam: edge } : { dimValue: edge },
  );
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim } } },
  };
}

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  return { name, type: AttributeType.FLOAT, f: value.float };
}
