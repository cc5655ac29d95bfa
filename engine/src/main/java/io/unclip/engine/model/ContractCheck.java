package io.unclip.engine.model;

import io.unclip.engine.onnx.ModelSession;
import io.unclip.engine.onnx.TensorSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Compares what a manifest declares with what the loaded ONNX graph really has: the same input
 * and output names, element types and ranks, and the same fixed dimensions. A manifest may fix a
 * dimension the graph leaves dynamic (it narrows the contract), but not the reverse: a graph
 * that fixes the batch to 1 cannot serve a manifest that promises any batch.
 */
final class ContractCheck {
    private ContractCheck() {
    }

    /** Problems found, each a sentence without the manifest file name; empty when they agree. */
    static List<String> check(StageManifest manifest, ModelSession session) {
        return check(manifest, session, manifest.onnxFile());
    }

    /** The same for one of the stage's graphs ({@code onnx} or {@code last_step_onnx}). */
    static List<String> check(StageManifest manifest, ModelSession session, java.nio.file.Path onnxFile) {
        String file = onnxFile.getFileName().toString();
        List<String> problems = new ArrayList<>();
        compare("input", manifest.inputs(), session.inputs(), file, problems);
        compare("output", manifest.outputs(), session.outputs(), file, problems);
        return problems;
    }

    private static void compare(String what, List<TensorDecl> declared, Map<String, TensorSpec> actual,
                                String file, List<String> problems) {
        for (TensorDecl d : declared) {
            TensorSpec s = actual.get(d.name());
            if (s == null) {
                problems.add(what + " '" + d.name() + "' is declared but " + file + " has no such " + what
                        + " (it has " + actual.keySet() + ")");
                continue;
            }
            if (s.type() != d.type()) {
                problems.add(what + " '" + d.name() + "' is " + s.type() + " in " + file + ", manifest says " + d.type());
            }
            if (!compatible(d, s)) {
                problems.add(what + " '" + d.name() + "' has shape " + s.shapeText() + " in " + file
                        + ", manifest says " + d.shapeText());
            }
        }
        List<String> undeclared = actual.keySet().stream()
                .filter(name -> declared.stream().noneMatch(d -> d.name().equals(name)))
                .collect(Collectors.toList());
        for (String name : undeclared) {
            problems.add(file + " has " + what + " '" + name + "' that the manifest does not declare");
        }
    }

    private static boolean compatible(TensorDecl d, TensorSpec s) {
        if (d.rank() != s.rank()) {
            return false;
        }
        long[] shape = s.shape();
        for (int i = 0; i < shape.length; i++) {
            Dim dim = d.shape().get(i);
            boolean graphFixed = shape[i] >= 0;
            if (graphFixed && (dim.isDynamic() || dim.size() != shape[i])) {
                return false;
            }
        }
        return true;
    }
}
