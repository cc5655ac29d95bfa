package io.unclip.shapes;

import java.util.List;

/** What {@link SceneJudge#analyze(RgbImage)} sees in an image: background and objects (largest first). */
public record SceneAnalysis(Background background, List<DetectedObject> objects) {
    public SceneAnalysis {
        objects = List.copyOf(objects);
    }
}
