package io.unclip.shapes;

import java.util.List;
import java.util.Objects;

/** A Shapes-World scene: a background and one or two objects (object order = caption order). */
public record Scene(Background background, List<SceneObject> objects) {
    public Scene {
        Objects.requireNonNull(background);
        objects = List.copyOf(objects);
        if (objects.isEmpty()) throw new IllegalArgumentException("a scene has at least one object");
    }

    /** Round a coordinate for the metadata: 3 decimals (0.001 of the side is 0.5 px at 512). */
    public static double round3(double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }

    /**
     * Ground truth as JSON, keys in fixed order, e.g.
     * {@code {"background":"white","objects":[{"shape":"circle","color":"red","size":"small","cell":"top left","cx":0.23,"cy":0.21}]}}.
     */
    public String metadataJson() {
        StringBuilder sb = new StringBuilder(160);
        sb.append("{\"background\":\"").append(background.word()).append("\",\"objects\":[");
        for (int i = 0; i < objects.size(); i++) {
            SceneObject o = objects.get(i);
            if (i > 0) sb.append(',');
            sb.append("{\"shape\":\"").append(o.shape().word())
                    .append("\",\"color\":\"").append(o.color().word())
                    .append("\",\"size\":\"").append(o.size().word())
                    .append("\",\"cell\":\"").append(o.cell().words())
                    .append("\",\"cx\":").append(round3(o.cx()))
                    .append(",\"cy\":").append(round3(o.cy()))
                    .append('}');
        }
        return sb.append("]}").toString();
    }
}
