package io.shardline.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.shardline.shard.EmbeddedShard;
import io.shardline.shard.EmbeddedShardConfig;

/**
 * An embedded shard in a process of its own, e.g. in a {@link NetworkNamespace}: what a partition cuts off keeps
 * running, holding its data. The child prints its connection string and stops when its standard input closes.
 */
public final class ShardProcess implements AutoCloseable {

    private static final String READY = "SHARD_READY ";

    private final Process process;
    private final String connectionString;

    private ShardProcess(Process process, String connectionString) {
        this.process = process;
        this.connectionString = connectionString;
    }

    /** Runs in the child: a shard bound to {@code args[1]}, until standard input closes. */
    public static void main(String[] args) throws IOException {
        EmbeddedShard shard = EmbeddedShard.start(args[0], EmbeddedShardConfig.defaults(args[0]).withHost(args[1]));
        System.out.println(READY + shard.connectionString());
        System.out.flush();
        System.in.transferTo(OutputStream.nullOutputStream());
        shard.close();
    }

    /**
     * Starts a shard in a new JVM, run under {@code prefix} (e.g. {@link NetworkNamespace#exec()}), bound to
     * {@code host}; returns once it answers. The child's output goes to a file, read for its connection string.
     */
    public static ShardProcess start(List<String> prefix, String shardId, String host) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(NetworkNamespace.javaCommand(ShardProcess.class.getName(), shardId, host));
        Path log = Files.createTempFile("shard-process-" + shardId, ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                if (line.startsWith(READY)) {
                    return new ShardProcess(process, line.substring(READY.length()));
                }
            }
            if (!process.isAlive()) {
                break;
            }
            Thread.sleep(100);
        }
        process.destroyForcibly();
        throw new IllegalStateException("the shard process " + shardId + " did not answer (output in " + log + "): "
            + String.join("\n", Files.readAllLines(log, StandardCharsets.UTF_8)));
    }

    public String connectionString() {
        return connectionString;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (process.isAlive()) {
            process.getOutputStream().close();
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
