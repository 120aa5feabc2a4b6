package io.shardline.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.embedded.internal.FreePorts;

/**
 * Apicurio Registry as a child JVM, serving the Confluent-compatible API at {@code /apis/ccompat/v7} and its own
 * at {@code /apis/registry/v3}, with in-memory storage. It cannot run in-process (it brings its own Kafka,
 * Vert.x and Jackson), so it is started from its distribution zip, unpacked once into a cache directory.
 */
public final class SchemaRegistryProcess implements AutoCloseable {

    /** System property naming the registry's distribution zip. */
    public static final String ZIP_PROPERTY = "shardline.registry.zip";
    /** Environment variable naming the registry's distribution zip (the system property wins). */
    public static final String ZIP_ENV = "SHARDLINE_REGISTRY_ZIP";
    static final String VERSION = "3.0.9";
    private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistryProcess.class);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

    private final Process process;
    private final String url;
    private final Path logFile;

    private SchemaRegistryProcess(Process process, String url, Path logFile) {
        this.process = process;
        this.url = url;
        this.logFile = logFile;
    }

    /** Starts the registry on a free loopback port and waits until it answers. */
    public static SchemaRegistryProcess start(Path workDir) {
        Path runner = unpackedRunner();
        int port = FreePorts.next();
        Path logFile = workDir.resolve("schema-registry.log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx384m");
        command.add("-XX:+UseSerialGC");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-Dquarkus.http.port=" + port);
        command.add("-Dquarkus.http.host=127.0.0.1");
        command.add("-Dquarkus.log.level=WARN");
        command.add("-jar");
        command.add(runner.toString());
        try {
            Files.createDirectories(workDir);
            Process process = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(logFile.toFile())
                .start();
            SchemaRegistryProcess registry = new SchemaRegistryProcess(process, "http://127.0.0.1:" + port, logFile);
            registry.awaitReady();
            return registry;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the schema registry " + runner, e);
        }
    }

    /** Base URL; the Confluent-compatible API is under {@code /apis/ccompat/v7}. */
    public String url() {
        return url;
    }

    public String confluentCompatibleUrl() {
        return url + "/apis/ccompat/v7";
    }

    public long pid() {
        return process.pid();
    }

    private void awaitReady() {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create(confluentCompatibleUrl() + "/subjects"))
            .timeout(Duration.ofSeconds(5)).GET().build();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the schema registry exited with " + process.exitValue() + "; see " + logFile);
            }
            try {
                if (client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYetListening) {
                LOG.debug("schema registry not ready yet: {}", notYetListening.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted while waiting for the schema registry", e);
            }
            sleep(200);
        }
        close();
        throw new IllegalStateException("the schema registry did not answer within " + READY_TIMEOUT + "; see " + logFile);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Locates the distribution zip and unpacks it once; returns the runner jar. */
    static Path unpackedRunner() {
        Path zip = distributionZip();
        Path target = Path.of(System.getProperty("user.home"), ".cache", "shardline", "apicurio-registry-" + VERSION);
        Path runner = target.resolve("apicurio-registry-app-" + VERSION + "-runner.jar");
        Path complete = target.resolve(".unpacked");
        if (Files.exists(complete)) {
            return runner;
        }
        try {
            Path staging = Files.createDirectories(target.getParent()).resolve(target.getFileName() + ".tmp-" + ProcessHandle.current().pid());
            try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
                for (ZipEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                    Path out = staging.resolve(entry.getName()).normalize();
                    if (!out.startsWith(staging)) {
                        throw new IOException("zip entry escapes the target directory: " + entry.getName());
                    }
                    if (entry.isDirectory()) {
                        Files.createDirectories(out);
                    } else {
                        Files.createDirectories(out.getParent());
                        Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            Files.writeString(staging.resolve(".unpacked"), zip.toString());
            try {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException anotherProcessWon) {
                if (!Files.exists(complete)) {
                    throw anotherProcessWon;
                }
            }
            return runner;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack the schema registry from " + zip, e);
        }
    }

    static Path distributionZip() {
        String configured = System.getProperty(ZIP_PROPERTY, System.getenv(ZIP_ENV));
        Path zip = configured != null ? Path.of(configured)
            : Path.of(System.getProperty("user.home"), ".m2", "repository", "io", "apicurio", "apicurio-registry-app",
                VERSION, "apicurio-registry-app-" + VERSION + "-all.zip");
        if (!Files.isRegularFile(zip)) {
            throw new IllegalStateException("the schema registry distribution " + zip + " is missing; "
                + "build the project once (mvn -DskipTests install fetches it) or set " + ZIP_ENV);
        }
        return zip;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
