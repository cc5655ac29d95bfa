package io.unclip.engine.diffusion;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Every step of every improved-diffusion reference case, within 1e-4. */
class ReferenceCasesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestFactory
    List<DynamicNode> referenceCases() {
        List<DynamicNode> files = new ArrayList<>();
        for (ReferenceCase c : ReferenceCases.loadAll(ReferenceCases.directory())) {
            ReferenceChecker checker = new ReferenceChecker(c);
            List<DynamicTest> tests = new ArrayList<>();
            String timestepsName = c.name() + " timesteps";
            tests.add(DynamicTest.dynamicTest(timestepsName,
                    () -> assertNoProblems(timestepsName, checker.checkTimesteps())));
            for (ReferenceCase.Step s : c.steps()) {
                String stepName = c.name() + " step " + s.index();
                tests.add(DynamicTest.dynamicTest(stepName, () -> assertNoProblems(stepName, checker.checkStep(s))));
            }
            files.add(DynamicContainer.dynamicContainer(c.file().getFileName().toString(), tests));
        }
        return files;
    }

    @ParameterizedTest
    @ValueSource(strings = {"expected_pred_x0", "expected_x_prev", "expected_mean", "expected_log_variance"})
    void perturbedExpectationIsReported(String field, @TempDir Path tmp) throws IOException {
        Path source = firstCaseWhere(c -> c.sampler().equals("ddpm") && c.guidanceScale() != null);
        ObjectNode root = (ObjectNode) JSON.readTree(source.toFile());
        Path copy = tmp.resolve(source.getFileName());
        JSON.writeValue(copy.toFile(), root);
        ReferenceCase clean = ReferenceCases.loadAll(tmp).get(0);
        assertNoProblems("unperturbed copy", new ReferenceChecker(clean).checkStep(clean.steps().get(0)));

        ArrayNode values = (ArrayNode) root.withArray("steps").get(0).get(field);
        values.set(5, values.get(5).asDouble() + 1e-2);
        JSON.writeValue(copy.toFile(), root);
        ReferenceCase perturbed = ReferenceCases.loadAll(tmp).get(0);
        List<String> problems = new ReferenceChecker(perturbed).checkStep(perturbed.steps().get(0));
        assertEquals(1, problems.size(), problems::toString);
        assertTrue(problems.get(0).startsWith(field + ": 1 of "), problems::toString);
    }

    @Test
    void perturbedTimestepsAreReported(@TempDir Path tmp) throws IOException {
        Path source = firstCaseWhere(c -> true);
        ObjectNode root = (ObjectNode) JSON.readTree(source.toFile());
        ArrayNode ts = root.withArray("timesteps");
        ts.set(1, ts.get(1).asLong() + 1);
        JSON.writeValue(tmp.resolve("case.json").toFile(), root);
        List<String> problems = new ReferenceChecker(ReferenceCases.loadAll(tmp).get(0)).checkTimesteps();
        assertFalse(problems.isEmpty());
    }

    @Test
    void missingDirectoryFails(@TempDir Path tmp) {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ReferenceCases.loadAll(tmp.resolve("absent")));
        assertTrue(e.getMessage().contains("does not exist"));
    }

    @Test
    void directoryWithoutCasesFails(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("README.md"), "no cases here");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ReferenceCases.loadAll(tmp));
        assertTrue(e.getMessage().contains("no *.json"));
    }

    private static Path firstCaseWhere(java.util.function.Predicate<ReferenceCase> wanted) {
        return ReferenceCases.loadAll(ReferenceCases.directory()).stream().filter(wanted).findFirst()
                .map(ReferenceCase::file)
                .orElseThrow(() -> new IllegalStateException("no reference case of the needed kind"));
    }

    private static void assertNoProblems(String what, List<String> problems) {
        if (!problems.isEmpty()) {
            fail(what + ":\n" + String.join("\n", problems));
        }
    }
}
