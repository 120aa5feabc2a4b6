package io.shardline.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/** Topologies decide from what is on topics; they never talk to a database themselves. */
class LayeringTest {

    @Test
    void topologyCodeNeverImportsTheMongoDbDriver() throws IOException {
        Path sources = Path.of("src/main/java");
        List<String> offenders;
        try (Stream<Path> files = Files.walk(sources)) {
            offenders = files.filter(file -> file.toString().endsWith(".java"))
                .filter(file -> {
                    try {
                        return Files.readAllLines(file).stream().anyMatch(line -> line.startsWith("import com.mongodb"));
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                })
                .map(Path::toString)
                .toList();
        }
        assertThat(sources).isDirectory();
        assertThat(offenders).isEmpty();
    }
}
