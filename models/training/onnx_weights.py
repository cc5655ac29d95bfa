"""Loads a bundle stage's weights from its ONNX file into the PyTorch module it was exported from.

A fresh clone has no .pt checkpoints, only models/bundle, so the PyTorch reference (torch_reference.py) rebuilds each
module from this directory's model definitions and fills its state_dict from the ONNX initializers.

torch.onnx.export keeps most parameter names, but renames some weights after the node that consumes them:
- Linear layers lowered to MatMul get `onnx::MatMul_N`, holding the TRANSPOSED weight ([in, out]);
- GroupNorm's affine weight and bias become `onnx::Mul_N` / `onnx::Add_N` of shape [C, 1, 1].
Those are mapped through the consuming node's name, whose scope path ("/text/blocks.0/mlp/mlp.0/MatMul") names the
module. Every state_dict entry must be filled exactly once, with the right shape; anything else is an error naming
what is missing or left over.
"""
import numpy as np
import onnx
import torch
from onnx import numpy_helper


class WeightMappingError(Exception):
    pass


def scope_to_module(node_name):
    """'/text/blocks.0/mlp/mlp.0/MatMul' -> 'text.blocks.0.mlp.0'. A nested scope repeats its parent's name as a
    prefix when the parent is a called container (Sequential 'mlp' -> child 'mlp.0'); ModuleList children carry
    their full relative path ('down.0.0')."""
    parts = [p for p in node_name.split("/") if p][:-1]
    path = []
    for p in parts:
        if path and p.startswith(path[-1] + "."):
            path[-1] = p
        else:
            path.append(p)
    return ".".join(path)


def _consumers(graph):
    by_input = {}
    for node in graph.node:
        for name in node.input:
            by_input.setdefault(name, []).append(node)
    return by_input


def load_state_dict_from_onnx(module, onnx_path, strict_unused=True):
    """Fills module's parameters and persistent buffers from the ONNX initializers. Returns the number of tensors
    loaded; raises WeightMappingError when the mapping is incomplete or ambiguous."""
    model = onnx.load(onnx_path)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    consumers = _consumers(model.graph)
    target = module.state_dict()
    filled = {}
    used = set()

    for key, value in target.items():  # names export kept
        if key in inits and tuple(inits[key].shape) == tuple(value.shape):
            filled[key] = inits[key]
            used.add(key)

    for name, arr in inits.items():  # renamed ones, located by their consuming node
        if name in used or not name.startswith("onnx::"):
            continue
        nodes = consumers.get(name, [])
        if len(nodes) != 1:
            continue  # a folded constant (shape, scale, ...) rather than a parameter
        node = nodes[0]
        prefix = scope_to_module(node.name)
        if node.op_type == "MatMul" and arr.ndim == 2:
            candidates, value = _open(target, filled, prefix, ("weight", "in_proj_weight")), arr.T
        elif node.op_type == "Mul" and arr.ndim == 3 and arr.shape[1:] == (1, 1):
            candidates, value = _open(target, filled, prefix, ("weight",)), arr.reshape(-1)
        elif node.op_type == "Add" and arr.ndim == 3 and arr.shape[1:] == (1, 1):
            candidates, value = _open(target, filled, prefix, ("bias",)), arr.reshape(-1)
        else:
            continue
        fits = [k for k in candidates if tuple(target[k].shape) == value.shape]
        if len(fits) != 1:
            raise WeightMappingError("%s: initializer %s %s used by %s (%s) matches %d parameters of module '%s'"
                                     % (onnx_path, name, list(arr.shape), node.name, node.op_type, len(fits), prefix))
        filled[fits[0]] = np.ascontiguousarray(value)
        used.add(name)

    missing = [k for k in target if k not in filled]
    if missing:
        raise WeightMappingError("%s: %d of %d parameters have no ONNX initializer: %s"
                                 % (onnx_path, len(missing), len(target), ", ".join(missing[:10])))
    if strict_unused:
        left = [n for n, a in inits.items() if n not in used and a.size > 1 and a.dtype == np.float32
                and not n.startswith("onnx::") and not n.startswith("/")]
        if left:
            raise WeightMappingError("%s: named initializers not in the module: %s" % (onnx_path, ", ".join(left[:10])))
    module.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in filled.items()},
                           strict=True)
    return len(filled)


def _open(target, filled, prefix, leaves):
    return [prefix + "." + leaf for leaf in leaves if (prefix + "." + leaf) in target and (prefix + "." + leaf)
            not in filled]


def initializer_shapes(onnx_path):
    """name -> shape of every initializer (used to infer the module's constructor arguments)."""
    return {i.name: tuple(i.dims) for i in onnx.load(onnx_path).graph.initializer}
