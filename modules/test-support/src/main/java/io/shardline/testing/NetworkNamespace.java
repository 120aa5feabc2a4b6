package io.shardline.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A Linux network namespace joined to this host by a veth pair, for tests of what a network partition does: a process
 * started in it ({@link #exec}) is reachable from here at {@link #innerAddress()}; {@link #cut()} takes the
 * namespace's end of the pair down, so that nothing crosses it either way and nothing is refused either (open
 * connections hang and new ones time out, as across a partition), {@link #heal()} brings it up again. Made with
 * {@code ip netns} and {@code ip link} from iproute2; it needs the right to manage the network (root, or
 * CAP_NET_ADMIN).
 */
public final class NetworkNamespace implements AutoCloseable {

    private static final long COMMAND_TIMEOUT_SECONDS = 20;

    private final String name;
    private final String hostSide;
    private final String innerSide;
    private final String hostAddress;
    private final String innerAddress;
    private boolean cut;

    private NetworkNamespace(String name, String hostSide, String innerSide, String hostAddress, String innerAddress) {
        this.name = name;
        this.hostSide = hostSide;
        this.innerSide = innerSide;
        this.hostAddress = hostAddress;
        this.innerAddress = innerAddress;
    }

    /**
     * Why this machine cannot make network namespaces here, or {@code null} when it can: it tries to make one and
     * delete it.
     */
    public static String unavailableBecause() {
        String probe = "slprobe" + UUID.randomUUID().toString().substring(0, 6);
        try {
            run("ip", "netns", "add", probe);
            run("ip", "netns", "del", probe);
            return null;
        } catch (IOException | RuntimeException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** Makes a namespace with one veth pair on a /30 of its own in 10.200-249.x.0. */
    public static NetworkNamespace create() throws IOException, InterruptedException {
        String id = UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        int a = 200 + ThreadLocalRandom.current().nextInt(50);
        int b = ThreadLocalRandom.current().nextInt(256);
        int c = 4 * ThreadLocalRandom.current().nextInt(64);
        String prefix = "10." + a + "." + b + ".";
        NetworkNamespace ns = new NetworkNamespace("sl" + id, "vh" + id, "vn" + id, prefix + (c + 1), prefix + (c + 2));
        try {
            run("ip", "netns", "add", ns.name);
            run("ip", "link", "add", ns.hostSide, "type", "veth", "peer", "name", ns.innerSide);
            run("ip", "link", "set", ns.innerSide, "netns", ns.name);
            run("ip", "addr", "add", ns.hostAddress + "/30", "dev", ns.hostSide);
            run("ip", "link", "set", ns.hostSide, "up");
            run("ip", "netns", "exec", ns.name, "ip", "addr", "add", ns.innerAddress + "/30", "dev", ns.innerSide);
            run("ip", "netns", "exec", ns.name, "ip", "link", "set", ns.innerSide, "up");
            run("ip", "netns", "exec", ns.name, "ip", "link", "set", "lo", "up");
            return ns;
        } catch (IOException | RuntimeException e) {
            try {
                ns.close();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** The namespace's address, where a process started in it is reached from here. */
    public String innerAddress() {
        return innerAddress;
    }

    /** This host's end of the pair. */
    public String hostAddress() {
        return hostAddress;
    }

    /** The command prefix that runs a program in the namespace. */
    public List<String> exec() {
        return List.of("ip", "netns", "exec", name);
    }

    /** Lets no packet between this host and the namespace through, either way; open connections hang. */
    public synchronized void cut() throws IOException, InterruptedException {
        if (!cut) {
            run("ip", "netns", "exec", name, "ip", "link", "set", innerSide, "down");
            cut = true;
        }
    }

    /** Lets packets through again; connections that hung go on. */
    public synchronized void heal() throws IOException, InterruptedException {
        if (cut) {
            run("ip", "netns", "exec", name, "ip", "link", "set", innerSide, "up");
            cut = false;
        }
    }

    /** Deletes the namespace, and with it the veth pair. */
    @Override
    public void close() {
        try {
            run("ip", "netns", "del", name);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("network namespace " + name + " could not be deleted: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while deleting network namespace " + name, e);
        }
    }

    @Override
    public String toString() {
        return "network namespace " + name + " (" + innerAddress + ", host side " + hostAddress + ")";
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!process.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + ": no answer within " + COMMAND_TIMEOUT_SECONDS + " s");
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (process.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed (exit " + process.exitValue() + "): " + output);
        }
    }

    /** The command line of this JVM's java with this JVM's class path running {@code mainClass} (a child JVM of a test). */
    public static List<String> javaCommand(String mainClass, String... args) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"));
        command.add("-Xmx256m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(List.of(args));
        return command;
    }
}
