package io.shardline.cli.ops;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import io.shardline.schemas.MigrationPhases;
import io.shardline.cli.config.DurationConverter;
import io.shardline.controlplane.CommandPlanner;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.controlplane.TopicTail;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A command for the workers: checked against the control plane's tables first (a bad one is refused with the field
 * named, exit code 2, and nothing is published), then published to the commands topic; with {@code --wait}, followed
 * until the workers have carried it out.
 */
public abstract class PublishingCommand implements Callable<Integer> {

    /** Exit code when the command was rejected by the workers, failed, or did not end in time. */
    public static final int EXIT_FAILED = 1;
    /** Exit code of a command refused before publishing. */
    public static final int EXIT_REFUSED = 2;

    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Option(names = "--reason", description = "Why; recorded with the command and its events.")
    String reason;

    @Option(names = "--issuer", defaultValue = "cli:${sys:user.name}", description = "Who issues it (default: ${DEFAULT-VALUE}).")
    String issuer;

    @Option(names = "--wait", negatable = false, description = "Follow the command until the workers have carried it out.")
    boolean await;

    @Option(names = "--wait-timeout", defaultValue = "10m", converter = DurationConverter.class,
        description = "How long --wait follows the command (default: ${DEFAULT-VALUE}).")
    Duration waitTimeout;

    /** Checks the arguments against the control plane and builds the command. */
    protected abstract CommandPlanner.Planned plan(CommandPlanner planner);

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (ControlPlaneClient plane = new ControlPlaneClient(client.bootstrap(), client.catalog())) {
            CommandPlanner.Planned planned;
            try {
                planned = plan(new CommandPlanner(plane));
            } catch (CommandPlanner.InvalidCommand invalid) {
                err.println("refused, nothing published: --" + invalid.getMessage());
                return EXIT_REFUSED;
            }
            ShardCommand command = planned.command(issuer, reason);
            String commandId = command.getCommandId();
            try (TopicTail<ShardEvent> events = new TopicTail<>(plane.bootstrap(), plane.catalog().events(), false, plane.catalog().controlDlq().name(), "cli")) {
                plane.publisher().publishCommand(planned.key(), command);
                out.println("published " + planned.body().getSchema().getName() + " " + commandId + ": " + planned.description());
                out.flush();
                return await ? follow(plane, events, commandId, planned.migrationId(), out) : 0;
            }
        }
    }

    private int follow(ControlPlaneClient plane, TopicTail<ShardEvent> events, String commandId, String followed, PrintWriter out)
        throws InterruptedException {
        long deadline = System.nanoTime() + waitTimeout.toNanos();
        boolean accepted = false;
        Map<String, MigrationPhase> seen = new HashMap<>();
        while (System.nanoTime() < deadline) {
            for (var appended : events.poll(Duration.ofMillis(200))) {
                ShardEvent event = appended.value();
                if (!commandId.equals(event.getCommandId())) {
                    continue;
                }
                if (event.getType() == ShardEventType.COMMAND_REJECTED) {
                    out.println("rejected: " + event.getReason());
                    return EXIT_FAILED;
                }
                if (event.getType() == ShardEventType.COMMAND_ACCEPTED) {
                    out.println("accepted: " + event.getReason());
                }
                // Any event of the command shows the workers took it: a worker that took it over after a crash skips the
                // acceptance it had already published.
                accepted = true;
            }
            List<MigrationState> mine = plane.migrations().values().stream()
                .filter(m -> followed == null ? commandId.equals(m.getCommandId()) : followed.equals(m.getMigrationId())).toList();
            accepted |= followed == null && !mine.isEmpty();
            for (MigrationState migration : mine) {
                if (seen.put(migration.getMigrationId(), migration.getPhase()) != migration.getPhase()) {
                    out.printf("migration %s %s %s->%s %s (%d/%d docs)%n", migration.getMigrationId(), migration.getNamespace(),
                        migration.getSourceShardId(), migration.getTargetShardId(), migration.getPhase(), migration.getCopiedDocs(),
                        migration.getTotalDocs());
                }
            }
            out.flush();
            boolean allEnded = mine.stream().allMatch(MigrationPhases::ended);
            if (accepted && allEnded) {
                boolean failed = mine.stream().anyMatch(m -> m.getPhase() == MigrationPhase.ABORTED && followed == null);
                out.println(failed ? "done, with aborted migrations" : "done");
                return failed ? EXIT_FAILED : 0;
            }
            Thread.sleep(300);
        }
        out.println("still running after " + waitTimeout + "; follow it with `shardline migrations --watch`");
        return EXIT_FAILED;
    }
}
