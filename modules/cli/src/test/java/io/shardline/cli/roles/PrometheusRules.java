package io.shardline.cli.roles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.Yaml;

/**
 * The Prometheus alerting rules of {@code deploy/prometheus/alerts.yml}, read with the YAML library the cluster file is
 * read with, and the metric names each rule's PromQL expression reads.
 */
final class PrometheusRules {

    static final Path FILE = Path.of(System.getProperty("user.dir")).resolve("../../deploy/prometheus/alerts.yml").normalize();

    /** One alerting rule as the file gives it. */
    record Rule(String alert, String expr, Map<String, Object> labels, Map<String, Object> annotations) {
    }

    /** PromQL words that are not metric names: operators, modifiers and literals. */
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
        "group_right", "bool", "offset", "atan2", "inf", "nan");
    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

    private PrometheusRules() {
    }

    /** Every rule of every group of the file. */
    @SuppressWarnings("unchecked")
    static List<Rule> read(Path file) throws IOException {
        Map<String, Object> root = new Yaml().load(Files.readString(file));
        List<Rule> rules = new ArrayList<>();
        for (Map<String, Object> group : (List<Map<String, Object>>) root.get("groups")) {
            for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                rules.add(new Rule((String) rule.get("alert"), String.valueOf(rule.get("expr")),
                    (Map<String, Object>) rule.getOrDefault("labels", Map.of()), (Map<String, Object>) rule.getOrDefault("annotations", Map.of())));
            }
        }
        return rules;
    }

    /**
     * The metric names a PromQL expression reads: its identifiers, once strings, label matchers, ranges, the label
     * lists of {@code by}/{@code without}/{@code on}/{@code ignoring}/{@code group_left}/{@code group_right} and
     * {@code offset} durations are taken out, less functions (an identifier followed by a parenthesis), keywords and
     * the exponents of numbers.
     */
    static Set<String> metricNames(String expr) {
        String text = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"").replaceAll("'(?:[^'\\\\]|\\\\.)*'", "''")
            .replaceAll("\\{[^}]*}", "{}")
            .replaceAll("\\[[^\\]]*\\]", "[]")
            .replaceAll("(?i)\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")
            .replaceAll("(?i)\\boffset\\s+-?[0-9a-z]+", " ");
        Set<String> names = new LinkedHashSet<>();
        Matcher identifiers = IDENTIFIER.matcher(text);
        while (identifiers.find()) {
            String word = identifiers.group();
            int before = identifiers.start() - 1;
            if (before >= 0 && (Character.isDigit(text.charAt(before)) || text.charAt(before) == '.')) {
                continue;
            }
            int after = identifiers.end();
            while (after < text.length() && Character.isWhitespace(text.charAt(after))) {
                after++;
            }
            boolean function = after < text.length() && text.charAt(after) == '(';
            if (!function && !KEYWORDS.contains(word.toLowerCase(Locale.ROOT))) {
                names.add(word);
            }
        }
        return names;
    }

    /** The names of the samples of a scrape in Prometheus' text format. */
    static Set<String> scraped(String scrape) {
        Set<String> names = new TreeSet<>();
        for (String line : scrape.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                int end = 0;
                while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
                    end++;
                }
                names.add(line.substring(0, end));
            }
        }
        return names;
    }

    /** Each rule's metric names that are not among {@code exported}, by rule; empty when every name is exported. */
    static Map<String, Set<String>> unknownNames(List<Rule> rules, Set<String> exported) {
        Map<String, Set<String>> unknown = new java.util.LinkedHashMap<>();
        for (Rule rule : rules) {
            Set<String> missing = new TreeSet<>(metricNames(rule.expr()));
            missing.removeAll(exported);
            if (!missing.isEmpty()) {
                unknown.put(rule.alert(), missing);
            }
        }
        return unknown;
    }
}
