"""normrt: a CPU inference runtime for ONNX models, with ONNX Runtime's Python API.

    import normrt as ort                      # instead of: import onnxruntime as ort
    sess = ort.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
    outputs = sess.run(None, {"x": x})        # a list of numpy arrays

Inputs that are C-contiguous arrays of the input's dtype are read in place;
outputs own their memory (no copy). The GIL is released while a model runs, so
several Python threads calling run() on one session use several cores.
"""
import enum
import os

from . import _normrt

__version__ = _normrt.version()


class Error(RuntimeError):
    """Every error normrt raises; the message names the input, node or file."""


class InvalidModel(Error):
    """The model is not a valid ONNX model (corrupt, truncated, inconsistent)."""


class UnsupportedOp(Error):
    """An operator or opset version normrt does not implement."""


class InvalidArgument(Error, ValueError):
    """Bad input from the caller: an input's name, dtype, rank or shape, an option."""


class FileError(Error, OSError):
    """A file could not be read or written."""


class InternalError(Error):
    """A bug in normrt."""


# In ErrorCode order (include/normrt/error.h).
_normrt._set_error_classes([InvalidModel, UnsupportedOp, InvalidArgument, FileError, InternalError])

_PROVIDERS = ["CPUExecutionProvider"]

_TYPE_NAMES = {1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string",
               9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64"}


def get_available_providers():
    return list(_PROVIDERS)


def get_all_providers():
    return list(_PROVIDERS)


def get_device():
    return "CPU"


def active_isa():
    """The kernels' instruction-set path by default (NORMRT_ISA, or the best this CPU runs)."""
    return _normrt.active_isa()


class GraphOptimizationLevel(enum.IntEnum):
    ORT_DISABLE_ALL = 0
    ORT_ENABLE_BASIC = 1
    ORT_ENABLE_EXTENDED = 2
    ORT_ENABLE_ALL = 99


class ExecutionMode(enum.IntEnum):
    ORT_SEQUENTIAL = 0
    ORT_PARALLEL = 1


class SessionOptions:
    """ONNX Runtime's SessionOptions. normrt uses intra_op_num_threads (0 = all
    cores), graph_optimization_level and execution_mode / inter_op_num_threads
    (independent operators run concurrently unless the mode is sequential or
    inter_op_num_threads is 1); isa picks the kernels' path ("", "sse2",
    "avx2", "avx512"). The other ONNX Runtime settings are accepted and have no
    effect."""

    def __init__(self):
        self.intra_op_num_threads = 0
        self.inter_op_num_threads = 0
        self.graph_optimization_level = GraphOptimizationLevel.ORT_ENABLE_ALL
        self.execution_mode = ExecutionMode.ORT_PARALLEL
        self.isa = ""
        self.log_severity_level = 2
        self.log_verbosity_level = 0
        self.logid = ""
        self.enable_profiling = False
        self.profile_file_prefix = "normrt_profile"
        self.enable_cpu_mem_arena = True
        self.enable_mem_pattern = True
        self.enable_mem_reuse = True
        self.optimized_model_filepath = ""
        self.use_deterministic_compute = True
        self._configs = {}

    def add_session_config_entry(self, key, value):
        self._configs[str(key)] = str(value)

    def get_session_config_entry(self, key):
        return self._configs[str(key)]

    def _optimization(self):
        level = int(self.graph_optimization_level)
        if level <= 0:
            return 0  # normrt: None
        return 1 if level == 1 else 2  # Basic; extended and all: All


class NodeArg:
    """An input or output as the model declares it: name, shape (ints, strings
    for symbolic dims, None for unknown ones) and type ('tensor(float)',
    'seq(tensor(float))', 'optional(tensor(float))', …)."""

    def __init__(self, name, shape, dtype, kind="tensor"):
        self.name = name
        self.shape = shape
        self.type = "tensor(" + _TYPE_NAMES.get(dtype, "undefined") + ")"
        if kind in ("seq", "optional_seq"):
            self.type = "seq(" + self.type + ")"
        if kind in ("optional", "optional_seq"):
            self.type = "optional(" + self.type + ")"

    def __repr__(self):
        return f"NodeArg(name='{self.name}', type='{self.type}', shape={self.shape})"


class ModelMetadata:
    def __init__(self, producer_name="", graph_name="", domain="", description="", graph_description="",
                 version=0, custom_metadata_map=None):
        self.producer_name = producer_name
        self.graph_name = graph_name
        self.domain = domain
        self.description = description
        self.graph_description = graph_description
        self.version = version
        self.custom_metadata_map = custom_metadata_map or {}


def _check_providers(providers):
    for p in providers or []:
        name = p[0] if isinstance(p, (tuple, list)) else p
        if name not in _PROVIDERS:
            raise ValueError(f"provider '{name}' is not available; normrt has {_PROVIDERS}")


class InferenceSession:
    """ONNX Runtime's InferenceSession on normrt: InferenceSession(path_or_bytes,
    sess_options=None, providers=None)."""

    def __init__(self, path_or_bytes, sess_options=None, providers=None, provider_options=None, **kwargs):
        _check_providers(providers)
        self._options = sess_options or SessionOptions()
        o = self._options
        inter_op = int(o.execution_mode) != int(ExecutionMode.ORT_SEQUENTIAL) and int(o.inter_op_num_threads) != 1
        args = (int(o.intra_op_num_threads), inter_op, o._optimization(), str(getattr(o, "isa", "")))
        if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            self._model_path = None
            self._sess = _normrt.Session.from_bytes(bytes(path_or_bytes), *args)
        elif isinstance(path_or_bytes, (str, os.PathLike)):
            self._model_path = os.fspath(path_or_bytes)
            self._sess = _normrt.Session(self._model_path, *args)
        else:
            raise TypeError(f"InferenceSession takes a model path or its bytes, got {type(path_or_bytes).__name__}")
        self._inputs = [NodeArg(*v) for v in self._sess.inputs()]
        self._outputs = [NodeArg(*v) for v in self._sess.outputs()]

    def get_inputs(self):
        return list(self._inputs)

    def get_outputs(self):
        return list(self._outputs)

    def get_overridable_initializers(self):
        return []

    def get_providers(self):
        return list(_PROVIDERS)

    def get_provider_options(self):
        return {_PROVIDERS[0]: {}}

    def get_session_options(self):
        return self._options

    def get_modelmeta(self):
        if self._model_path is None:
            return ModelMetadata()
        s = _normrt.summarize_model(self._model_path)
        return ModelMetadata(producer_name=s["producer"])

    def set_providers(self, providers=None, provider_options=None):
        _check_providers(providers)

    def end_profiling(self):
        return ""

    @property
    def isa(self):
        """The kernels' instruction-set path of this session."""
        return self._sess.isa

    def run(self, output_names, input_feed, run_options=None, profile=False):
        """Runs the model: output_names (None = all, in the model's order), input_feed
        {name: numpy.ndarray}. Returns the outputs as a list of numpy arrays; with
        profile=True, (outputs, nodes) where nodes lists each node's name, op_type,
        start_us, duration_us and thread."""
        if not isinstance(input_feed, dict):
            raise InvalidArgument(f"input_feed must be a dict of name → numpy.ndarray, got {type(input_feed).__name__}")
        result = self._sess.run(input_feed, bool(profile))
        values, nodes = (result[0], result[1]) if profile else (result, None)
        names = [o.name for o in self._outputs] if output_names is None else list(output_names)
        outputs = []
        for name in names:
            if name not in values:
                raise InvalidArgument(f"the model has no output '{name}' (its outputs: "
                                      + ", ".join(o.name for o in self._outputs) + ")")
            outputs.append(values[name])
        return (outputs, nodes) if profile else outputs


__all__ = ["InferenceSession", "SessionOptions", "GraphOptimizationLevel", "ExecutionMode", "NodeArg",
           "ModelMetadata", "get_available_providers", "get_all_providers", "get_device", "active_isa", "Error",
           "InvalidModel", "UnsupportedOp", "InvalidArgument", "FileError", "InternalError", "__version__"]
