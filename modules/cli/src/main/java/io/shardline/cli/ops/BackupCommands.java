package io.shardline.cli.ops;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.concurrent.Callable;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.backup.BackupCatalog;
import io.shardline.backup.BackupException;
import io.shardline.backup.BackupManifest;
import io.shardline.backup.ClusterBackups;
import io.shardline.backup.ShardBackup;
import io.shardline.backup.ShardRestore;
import io.shardline.cli.ShardlineCli;
import io.shardline.controlplane.ControlPlaneClient;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shardline backup}, {@code backups} and {@code restore}: per-shard backups and point-in-time restores. */
public final class BackupCommands {

    private BackupCommands() {
    }

    /** What the three share: the control plane, the backups' folder, and one-line errors. */
    abstract static class BackupVerb implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        abstract int run(ClusterBackups backups, PrintWriter out);

        abstract Path root();

        boolean gzip() {
            return false;
        }

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try (ControlPlaneClient plane = new ControlPlaneClient(client.bootstrap(), client.catalog(), "cli")) {
                return run(new ClusterBackups(plane, new ShardBackup.Settings(root(), gzip(), Duration.ofSeconds(60)), "cli", new SimpleMeterRegistry()), out);
            } catch (BackupException e) {
                spec.commandLine().getErr().println("shardline " + spec.name() + ": " + e.getMessage());
                return ShardlineCli.EXIT_FAILURE;
            }
        }
    }

    @Command(name = "backup", mixinStandardHelpOptions = true,
        description = "Back up a shard: a dump in mongodump's layout, consistent at a CDC position its manifest records.")
    public static final class Backup extends BackupVerb {
        @Option(names = "--shard", required = true, description = "The shard to back up.")
        String shardId;

        @Option(names = "--ns", split = ",", description = "Namespaces to back up (default: every configured namespace).")
        List<String> namespaces;

        @Option(names = "--to", required = true, description = "The backups' folder: the backup goes to DIR/<shard>/<backup id>/.")
        Path to;

        @Option(names = "--gzip", negatable = false, description = "Compress the .bson files (.bson.gz, as mongodump --gzip).")
        boolean gzip;

        @Override
        Path root() {
            return to;
        }

        @Override
        boolean gzip() {
            return gzip;
        }

        @Override
        int run(ClusterBackups backups, PrintWriter out) {
            BackupManifest manifest = backups.backup(shardId, namespaces);
            out.printf("backup %s of %s: consistent at %s, in %s%n", manifest.backupId(), manifest.shardId(), Instant.ofEpochMilli(manifest.consistentAt()),
                backups.catalog().root().resolve(manifest.shardId()).resolve(manifest.backupId()));
            for (BackupManifest.NamespaceDump dump : manifest.namespaces()) {
                out.printf("  %-24s %,d documents, %,d bytes, %s offset %d, %d owned ranges%n", dump.namespace(), dump.documents(), dump.bytes(),
                    dump.cdcTopic(), dump.consistentOffset(), dump.ranges().size());
            }
            return 0;
        }
    }

    @Command(name = "backups", mixinStandardHelpOptions = true, description = "List the backups in a folder, with the times each restores to.")
    public static final class Backups extends BackupVerb {
        @Option(names = "--shard", description = "Only this shard's backups.")
        String shardId;

        @Option(names = "--dir", required = true, description = "The backups' folder.")
        Path dir;

        @Option(names = "--positions", negatable = false, description = "Also print each namespace's CDC offset and change-stream resume token.")
        boolean positions;

        @Override
        Path root() {
            return dir;
        }

        @Override
        int run(ClusterBackups backups, PrintWriter out) {
            for (BackupCatalog.Entry entry : backups.catalog().list(shardId)) {
                if (!entry.complete()) {
                    out.printf("%-6s %-30s %s%n", entry.shardId(), entry.backupId(), entry.problem());
                    continue;
                }
                BackupManifest manifest = entry.manifest();
                long documents = manifest.namespaces().stream().mapToLong(BackupManifest.NamespaceDump::documents).sum();
                out.printf("%-6s %-30s restores to %s .. %s, %,d documents in %d namespaces%n", entry.shardId(), entry.backupId(),
                    Instant.ofEpochMilli(manifest.consistentAt()), backups.restorableUntil(manifest), documents, manifest.namespaces().size());
                if (positions) {
                    manifest.namespaces().forEach(dump -> out.printf("         %s: %s offset %d, resume token %s%n", dump.namespace(), dump.cdcTopic(),
                        dump.consistentOffset(), dump.resumeToken()));
                }
            }
            return 0;
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
        description = "Restore a shard as it was at a moment: a backup, then its CDC changes up to that moment, only the ranges it owned then.")
    public static final class Restore extends BackupVerb {
        @Option(names = "--shard", required = true, description = "The shard whose backups and changes are restored.")
        String shardId;

        @Option(names = "--from", required = true, description = "The backups' folder.")
        Path from;

        @ArgGroup(multiplicity = "1")
        When when;

        static final class When {
            @Option(names = "--at", description = "The moment: an ISO-8601 instant (2026-11-30T12:00:00.250Z) or epoch milliseconds.")
            String at;

            @Option(names = "--latest", negatable = false, description = "The newest change the CDC topics hold.")
            boolean latest;
        }

        @Option(names = "--backup", description = "The backup to start from (default: the newest consistent by --at).")
        String backupId;

        @Option(names = "--ns", split = ",", description = "Namespaces to restore (default: all the backup holds).")
        List<String> namespaces;

        @ArgGroup(multiplicity = "1")
        Where where;

        static final class Where {
            @Option(names = "--into", description = "A fresh shard's connection string to restore into.")
            String into;

            @Option(names = "--in-place", negatable = false, description = "Restore over the shard itself (needs --yes).")
            boolean inPlace;
        }

        @Option(names = "--yes", negatable = false, description = "Confirm --in-place: the shard's documents become those of the moment.")
        boolean yes;

        @Override
        Path root() {
            return from;
        }

        @Override
        int run(ClusterBackups backups, PrintWriter out) {
            if (where.inPlace && !yes) {
                throw new IllegalArgumentException("--in-place: overwrites shard " + shardId + "'s documents; add --yes to confirm");
            }
            long at = when.latest ? ShardRestore.LATEST : parseTime(when.at);
            String target = where.inPlace ? backups.shard(shardId).getConnectionString() : where.into;
            ShardRestore.Result result = backups.restore(new ShardRestore.Request(shardId, at, backupId, namespaces, target, where.inPlace));
            out.printf("restored %s to %s from %s%n", shardId, at == ShardRestore.LATEST ? "the newest change held" : Instant.ofEpochMilli(at), result.base());
            for (ShardRestore.NamespaceResult ns : result.namespaces()) {
                out.printf("  %-24s %,d documents: %,d from the backup (%.1f s), %,d changes applied (%.1f s, newest %s), %,d outside the owned ranges removed%n",
                    ns.namespace(), ns.documents(), ns.loaded(), ns.loadMillis() / 1e3, ns.changesApplied(), ns.replayMillis() / 1e3,
                    ns.newestChangeAt() == 0 ? "-" : Instant.ofEpochMilli(ns.newestChangeAt()), ns.removedNotOwned());
                if (ns.intentsResolved() + ns.intentsKept() > 0) {
                    out.printf("  %-24s %,d documents a transaction held at the moment left as it stood then, %,d still held (decision not "
                        + "known yet: the routers resolve them)%n", "", ns.intentsResolved(), ns.intentsKept());
                }
            }
            return 0;
        }

        static long parseTime(String text) {
            if (text.chars().allMatch(Character::isDigit)) {
                return Long.parseLong(text);
            }
            try {
                return Instant.parse(text).toEpochMilli();
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("--at: '" + text + "' is neither an ISO-8601 instant (2026-11-30T12:00:00Z) nor epoch milliseconds");
            }
        }
    }
}
