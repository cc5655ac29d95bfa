package io.unclip.shapes;

import java.util.List;

/**
 * The three caption styles of the spec. Object order is the scene's object order.
 * <ul>
 *   <li>short: {@code a red circle}; {@code a red circle and a blue square}</li>
 *   <li>descriptive: {@code a small red circle at the top left on a white background};
 *       {@code a large red circle at the top left and a small blue square at the bottom right, on a gray background}</li>
 *   <li>relational (two objects only): {@code a red circle above a blue square}; {@code a red circle to the left of a blue square}
 *       ({@code above}/{@code below} when rows differ, else {@code to the left of}/{@code to the right of})</li>
 * </ul>
 */
public final class Captions {
    private Captions() {}

    public static String shortCaption(Scene s) {
        List<SceneObject> o = s.objects();
        String c = shortPhrase(o.get(0));
        return o.size() == 1 ? c : c + " and " + shortPhrase(o.get(1));
    }

    public static String descriptive(Scene s) {
        List<SceneObject> o = s.objects();
        String bg = "on a " + s.background().word() + " background";
        if (o.size() == 1) return descriptivePhrase(o.get(0)) + " " + bg;
        return descriptivePhrase(o.get(0)) + " and " + descriptivePhrase(o.get(1)) + ", " + bg;
    }

    /** The relational caption, or null for a one-object scene (the spec defines it for two objects only). */
    public static String relational(Scene s) {
        List<SceneObject> o = s.objects();
        if (o.size() != 2) return null;
        Relation r = Relation.between(o.get(0).cell(), o.get(1).cell());
        if (r == null) return null;
        return shortPhrase(o.get(0)) + " " + r.words() + " " + shortPhrase(o.get(1));
    }

    /** {@code a red circle} */
    public static String shortPhrase(SceneObject o) {
        return "a " + o.color().word() + " " + o.shape().word();
    }

    /** {@code a small red circle at the top left} */
    public static String descriptivePhrase(SceneObject o) {
        return "a " + o.size().word() + " " + o.color().word() + " " + o.shape().word() + " at the " + o.cell().words();
    }
}
