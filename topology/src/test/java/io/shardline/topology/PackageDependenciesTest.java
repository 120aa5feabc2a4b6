package io.shardline.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The topology's packages depend on one another one way only: the builders ({@code io.shardline.topology}) on the
 * balancer, the processors ({@code internal}) and the store names; the balancer on its policies; the policies on no
 * Kafka Streams type. Read from the sources: every reference to a type of {@code io.shardline.topology.*}, imported or
 * written out in full.
 */
class PackageDependenciesTest {

    private static final Path SOURCES = Path.of("src/main/java");
    private static final Pattern PACKAGE = Pattern.compile("^package ([a-z0-9.]+);");
    private static final Pattern REFERENCE = Pattern.compile("\\b(io\\.shardline\\.topology(?:\\.[a-z][a-z0-9]*)*)\\.[A-Z]");

    /** Package to the other topology packages its sources refer to. */
    private static Map<String, Set<String>> dependencies() throws IOException {
        Map<String, Set<String>> graph = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(path -> path.toString().endsWith(".java")).toList()) {
                List<String> lines = Files.readAllLines(file);
                String own = lines.stream().map(PACKAGE::matcher).filter(Matcher::find).map(m -> m.group(1)).findFirst().orElseThrow();
                Set<String> used = graph.computeIfAbsent(own, name -> new TreeSet<>());
                for (String line : lines) {
                    Matcher reference = REFERENCE.matcher(line);
                    while (!line.startsWith("package ") && reference.find()) {
                        if (!reference.group(1).equals(own)) {
                            used.add(reference.group(1));
                        }
                    }
                }
            }
        }
        return graph;
    }

    /** A cycle of the graph as the list of its packages (first one repeated at the end), or an empty list. */
    static List<String> cycle(Map<String, Set<String>> graph) {
        Set<String> done = new TreeSet<>();
        for (String start : graph.keySet()) {
            List<String> path = new ArrayList<>();
            List<String> found = walk(graph, start, path, done);
            if (!found.isEmpty()) {
                return found;
            }
        }
        return List.of();
    }

    private static List<String> walk(Map<String, Set<String>> graph, String node, List<String> path, Set<String> done) {
        int seen = path.indexOf(node);
        if (seen >= 0) {
            List<String> cycle = new ArrayList<>(path.subList(seen, path.size()));
            cycle.add(node);
            return cycle;
        }
        if (done.contains(node)) {
            return List.of();
        }
        path.add(node);
        for (String next : graph.getOrDefault(node, Set.of())) {
            List<String> found = walk(graph, next, path, done);
            if (!found.isEmpty()) {
                return found;
            }
        }
        path.remove(path.size() - 1);
        done.add(node);
        return List.of();
    }

    @Test
    void shouldHaveNoCycleBetweenTheTopologyPackages() throws IOException {
        Map<String, Set<String>> graph = dependencies();

        assertThat(graph.get("io.shardline.topology")).as("the references are read")
            .contains("io.shardline.topology.balancer", "io.shardline.topology.internal", "io.shardline.topology.stores");
        assertThat(graph.get("io.shardline.topology.balancer")).contains("io.shardline.topology.balancer.policy");
        assertThat(cycle(graph)).isEmpty();
    }

    @Test
    void shouldFindACycleWhereThereIsOne() {
        Map<String, Set<String>> graph = new TreeMap<>(Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a", "d"), "d", Set.of()));

        assertThat(cycle(graph)).containsExactly("a", "b", "c", "a");
        assertThat(cycle(Map.of("a", Set.of("b", "c"), "b", Set.of("c"), "c", Set.of()))).isEmpty();
    }

    @Test
    void shouldKeepTheBalancerPoliciesFreeOfKafkaStreams() throws IOException {
        Path policies = SOURCES.resolve("io/shardline/topology/balancer/policy");
        List<String> offenders;
        try (Stream<Path> files = Files.list(policies)) {
            offenders = files.filter(file -> {
                try {
                    return Files.readAllLines(file).stream().anyMatch(line -> line.contains("org.apache.kafka"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).map(Path::toString).toList();
        }
        assertThat(policies).isDirectory();
        assertThat(offenders).isEmpty();
    }
}
