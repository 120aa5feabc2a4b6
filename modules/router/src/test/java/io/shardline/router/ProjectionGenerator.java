package io.shardline.router;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.bson.Document;

/**
 * Random find projections over the fields of {@link RouterProjectionDistinctIT}'s documents: inclusions and exclusions
 * of paths that may be sort paths, their sub-paths or super-paths, with {@code _id} either way, {@code $slice} and
 * {@code $elemMatch} beside inclusions, and a few projections the router refuses; and which field the router must name
 * when it refuses one.
 */
final class ProjectionGenerator {

    private static final List<String> PATHS = List.of("name", "age", "at", "active", "details", "details.code", "details.level",
        "profile", "profile.city", "profile.langs", "tags", "items", "items.sku", "items.qty", "roles", "nothing");
    /** The embedded engine fails on a [skip, limit] whose skip passes either end of the array; MongoDB does not. */
    private static final List<Object> SLICES = List.of(1, 2, -1, -3, 0, List.of(0, 2), List.of(0, 1));
    private static final Document ELEM_MATCH = new Document("$elemMatch", new Document("qty", new Document("$gte", 2)));

    private ProjectionGenerator() {
    }

    static Document projection(Random random) {
        return switch (random.nextInt(12)) {
            case 0 -> null;
            case 1 -> new Document("_id", 0);
            case 2 -> new Document("_id", 1);
            case 3 -> switch (random.nextInt(3)) {
                case 0 -> new Document("x", "$name");
                case 1 -> new Document("roles.$", 1);
                default -> new Document("profile", new Document("city", 1));
            };
            case 4, 5, 6 -> exclusion(random);
            default -> inclusion(random);
        };
    }

    private static Document inclusion(Random random) {
        Document projection = new Document();
        if (random.nextInt(3) == 0) {
            projection.put("_id", random.nextBoolean() ? 0 : 1);
        }
        for (String path : paths(random)) {
            projection.put(path, random.nextInt(4) == 0 ? true : 1);
        }
        if (random.nextInt(3) == 0 && free(projection, "roles")) {
            projection.put("roles", new Document("$slice", SLICES.get(random.nextInt(SLICES.size()))));
        }
        if (random.nextInt(4) == 0 && free(projection, "items")) {
            projection.put("items", ELEM_MATCH);
        }
        return projection;
    }

    private static Document exclusion(Random random) {
        Document projection = new Document();
        if (random.nextInt(3) == 0) {
            projection.put("_id", 0);
        }
        for (String path : paths(random)) {
            projection.put(path, random.nextInt(4) == 0 ? false : 0);
        }
        return projection;
    }

    /** One to three paths, none a prefix of another. */
    private static List<String> paths(Random random) {
        List<String> paths = new ArrayList<>();
        for (int n = 1 + random.nextInt(3); n > 0; n--) {
            String path = PATHS.get(random.nextInt(PATHS.size()));
            if (paths.stream().allMatch(other -> !overlap(other, path))) {
                paths.add(path);
            }
        }
        return paths;
    }

    private static boolean free(Document projection, String path) {
        return projection.keySet().stream().noneMatch(other -> overlap(other, path));
    }

    static boolean overlap(String a, String b) {
        return a.equals(b) || a.startsWith(b + ".") || b.startsWith(a + ".");
    }

    /** The field the router must name in its refusal of this projection with this sort, or null when it must answer. */
    static String refusedField(Document projection, Document sort) {
        if (projection == null) {
            return null;
        }
        for (String path : projection.keySet()) {
            Object value = projection.get(path);
            if (path.contains("$") || value instanceof String) {
                return path;
            }
            if (value instanceof Document operator && !operator.containsKey("$slice") && !operator.containsKey("$elemMatch")) {
                return path;
            }
            if (ELEM_MATCH.equals(value) && sort.keySet().stream().anyMatch(sortPath -> overlap(sortPath, path))) {
                return path;
            }
        }
        return null;
    }
}
