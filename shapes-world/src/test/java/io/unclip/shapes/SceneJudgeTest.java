package io.unclip.shapes;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class SceneJudgeTest {
    @Test
    void perfectOnCleanRendersAt128() {
        JudgeStats st = JudgeStats.onRenders(1234, 500, 128);
        System.out.println("judge @128\n" + st.report());
        assertEquals(1.0, st.overall(), st.report());
    }

    @Test
    void nearPerfectOnCleanRendersAt32() {
        JudgeStats st = JudgeStats.onRenders(1234, 500, 32);
        System.out.println("judge @32\n" + st.report());
        assertTrue(st.overall() >= 0.995, st.report());
        for (String a : new String[] {"count", "colors", "sizes", "cells", "relation", "background"})
            assertEquals(1.0, st.accuracy(a), a + "\n" + st.report());
        assertTrue(st.accuracy("shapes") >= 0.995);
    }

    @Test
    void judgeCommandReadsNpyAndPrompts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        int n = 40;
        java.nio.file.Path npy = dir.resolve("x.npy");
        StringBuilder prompts = new StringBuilder("[");
        try (NpyWriter w = new NpyWriter(npy, n, 32)) {
            for (int i = 0; i < n; i++) {
                Scene s = SceneSampler.sample(99, i);
                w.write(i, Renderer.render(s, 32));
                prompts.append(i == 0 ? "" : ",").append('"').append(Captions.descriptive(s)).append('"');
            }
        }
        java.nio.file.Files.writeString(dir.resolve("p.json"), prompts.append("]").toString());
        List<RgbImage> imgs = NpyReader.readImages(npy);
        assertEquals(n, imgs.size());
        assertEquals(Renderer.render(SceneSampler.sample(99, 5), 32), imgs.get(5));
        assertEquals(0, new picocli.CommandLine(new ShapesWorldCli()).execute("judge", "--images", npy.toString(),
                "--prompts", dir.resolve("p.json").toString()));
    }

    @Test
    void analysisRecoversGroundTruth() {
        for (int i = 0; i < 100; i++) {
            Scene s = SceneSampler.sample(77, i);
            SceneAnalysis a = SceneJudge.analyze(Renderer.render(s, 128));
            assertEquals(s.background(), a.background());
            assertEquals(s.objects().size(), a.objects().size());
            for (SceneObject o : s.objects()) {
                DetectedObject d = a.objects().stream().filter(x -> x.color() == o.color() && x.shape() == o.shape())
                        .findFirst().orElseThrow(() -> new AssertionError(o + " not found in " + a));
                assertEquals(o.cx(), d.cx(), 1.0 / 128);
                assertEquals(o.cy(), d.cy(), 1.0 / 128);
                assertEquals(o.size().side, d.width(), 1.5 / 128);
            }
        }
    }

    @Test
    void wrongPromptsAreScoredWrong() {
        Scene s = new Scene(Background.WHITE, List.of(
                new SceneObject(Shape.CIRCLE, ObjectColor.RED, Size.LARGE, Cell.TOP_LEFT, 0.22, 0.22),
                new SceneObject(Shape.SQUARE, ObjectColor.BLUE, Size.SMALL, Cell.BOTTOM_RIGHT, 0.78, 0.78)));
        RgbImage img = Renderer.render(s, 64);
        assertTrue(SceneJudge.judge(img, "a large red circle at the top left and a small blue square at the bottom right, on a white background").allCorrect());
        Judgement j = SceneJudge.judge(img, "a blue circle and a red square");
        assertFalse(j.binding());
        assertTrue(j.colors());
        assertTrue(j.shapes());
        j = SceneJudge.judge(img, "a red circle below a blue square");
        assertFalse(j.relation());
        j = SceneJudge.judge(img, "a small red circle on a black background");
        assertFalse(j.count());
        assertFalse(j.sizes());
        assertFalse(j.background());
        assertTrue(j.colors());
        assertNull(j.relation());
        assertNull(j.cells());
        j = SceneJudge.judge(img, "a green triangle");
        assertFalse(j.colors());
        assertFalse(j.shapes());
    }

    @Test
    void emptyCanvasHasNoObjects() {
        RgbImage img = new RgbImage(32, 32);
        java.util.Arrays.fill(img.data, (byte) 128);
        SceneAnalysis a = SceneJudge.analyze(img);
        assertEquals(Background.GRAY, a.background());
        assertTrue(a.objects().isEmpty());
        Judgement j = SceneJudge.judge(img, "a red circle");
        assertFalse(j.count());
        assertFalse(j.shapes());
    }
}
