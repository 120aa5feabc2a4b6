package io.shardline.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A connector definition from {@code connectors/} ({@code name} + {@code config}, as posted to Connect's REST
 * API) with {@code {{PLACEHOLDER}}} slots filled per shard. Every placeholder must be given a value.
 */
public final class ConnectorTemplate {

    /** The per-shard Debezium MongoDB connector. */
    public static final String MONGODB_SHARD = "connectors/mongodb-shard.json";
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{([A-Z_]+)}}");

    private final String resource;
    private final String text;

    private ConnectorTemplate(String resource, String text) {
        this.resource = resource;
        this.text = text;
    }

    public static ConnectorTemplate load(String resource) {
        try (InputStream in = ConnectorTemplate.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("connector template " + resource + " is not on the classpath");
            }
            return new ConnectorTemplate(resource, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read connector template " + resource, e);
        }
    }

    /** The connector JSON with every placeholder replaced; a placeholder without a value is an error. */
    public String render(Map<String, String> values) {
        Matcher matcher = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            String name = matcher.group(1);
            String value = values.get(name);
            if (value == null) {
                throw new IllegalArgumentException(resource + ": no value for placeholder {{" + name + "}}");
            }
            matcher.appendReplacement(out, Matcher.quoteReplacement(jsonEscape(value)));
        }
        matcher.appendTail(out);
        return out.toString();
    }

    private static String jsonEscape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
