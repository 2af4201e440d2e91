import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type ElemType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';
/** A number is a fixed size; a string names a symbolic (dynamic) dimension. */
export type Dim = number | string;

/**
 * Attribute values. JavaScript cannot tell 1 from 1.0, so a float attribute is written
 * `{ float: 0.2 }` and a plain number always means an INT attribute.
 */
export type AttrValue =
  | number
  | number[]
  | string
  | { float: number }
  | { floats: number[] };

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

type InitData = Float32Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

/** `dims` undefined leaves the shape unstated (rank unknown). */
function valueInfo(name: string, type: ElemType, dims: Dim[] | undefined): onnxProto.onnx.IValueInfoProto {
  const shape = dims && { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  return { name, type: { tensorType: { elemType: ELEM[type], ...(shape ? { shape } : {}) } } };
}

function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') return { name, type: T.INT, i: value };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  return { name, type: T.FLOATS, floats: value.floats };
}

function elemTypeOf(data: InitData): ElemType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint16Array) return 'float16';
  return 'uint8';
}

/**
 * Writes ONNX graphs with onnx-proto. Used by the ncnn converter and by the tests, which build
 * tiny models with the same input/output signature as the real ones.
 */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private counter = 0;

  constructor(
    private readonly name = 'graph',
    private readonly opset = 13,
  ) {}

  input(name: string, type: ElemType, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: ElemType, dims?: Dim[]): string {
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /**
   * Adds a constant tensor; `data` is copied as raw little-endian bytes. `type` is needed only
   * where the array type is ambiguous (a Uint8Array of booleans).
   */
  initializer(name: string, dims: number[], data: InitData, type: ElemType = elemTypeOf(data)): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, dims, dataType: ELEM[type], rawData: bytes });
    return name;
  }

  /** A fresh tensor name, unique within this graph. */
  fresh(prefix = 't'): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  /** Adds a node; returns its output names (fresh ones unless given). */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs?: string[]): string[] {
    const outs = outputs ?? [this.fresh(opType.toLowerCase())];
    this.nodes.push({
      opType,
      name: this.fresh(`${opType}_node`),
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** Like node() for the common single-output case. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    const [out] = this.node(opType, inputs, attrs, output === undefined ? undefined : [output]);
    return out as string;
  }

  toModel(): onnxProto.onnx.IModelProto {
    return {
      irVersion: 7,
      producerName: 'fotofun-ai-service',
      opsetImport: [{ domain: '', version: this.opset }],
      graph: {
        name: this.name,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
      },
    };
  }

  toBytes(): Uint8Array {
    return encodeModel(this.toModel());
  }
}

export function encodeModel(model: onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
