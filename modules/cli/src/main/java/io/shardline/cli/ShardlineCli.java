package io.shardline.cli;

import io.shardline.cli.ops.CommandVerbs;
import io.shardline.cli.ops.InitCommand;
import io.shardline.cli.ops.ReadCommands;
import io.shardline.cli.ops.SqlCommand;
import io.shardline.cli.ops.VerifyCommand;
import io.shardline.cli.roles.RoleCommands;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code shardline} command: one jar, every role. */
@Command(name = "shardline", mixinStandardHelpOptions = true, versionProvider = ShardlineCli.Version.class,
    description = "Automatic sharding for MongoDB-backed services, as a CDC pipeline on Kafka.",
    subcommands = {DemoCommand.class, UpCommand.class, InitCommand.class,
        ReadCommands.Status.class, ReadCommands.Shards.class, ReadCommands.Routing.class, ReadCommands.Migrations.class,
        ReadCommands.Stats.class, ReadCommands.Events.class, SqlCommand.class, VerifyCommand.class,
        CommandVerbs.Split.class, CommandVerbs.Merge.class, CommandVerbs.Move.class, CommandVerbs.RebalanceVerb.class,
        CommandVerbs.Drain.class, CommandVerbs.ReplaceShardVerb.class, CommandVerbs.AddStandbyVerb.class, CommandVerbs.Rollback.class, CommandVerbs.Abort.class, io.shardline.cli.ops.ZoneCommands.class,
        io.shardline.cli.ops.BackupCommands.Backup.class, io.shardline.cli.ops.BackupCommands.Backups.class, io.shardline.cli.ops.BackupCommands.Restore.class,
        RoleCommands.Router.class, RoleCommands.Controller.class, RoleCommands.Worker.class, RoleCommands.Admin.class, RoleCommands.Token.class,
        io.shardline.cli.roles.BackupAgentRole.class,
        CommandLine.HelpCommand.class})
public final class ShardlineCli {

    /** Exit code of a command that failed at run time. */
    public static final int EXIT_FAILURE = 1;
    /** Exit code of a command given bad arguments or configuration. */
    public static final int EXIT_USAGE = 2;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        return new CommandLine(new ShardlineCli())
            .setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException || e instanceof IllegalArgumentException
                ? EXIT_USAGE : EXIT_FAILURE)
            .setExecutionExceptionHandler(ShardlineCli::usageError);
    }

    /**
     * A command that finds its arguments or configuration wrong at run time (an {@link IllegalArgumentException}, whose
     * message names the option) prints that message on one line and exits {@link #EXIT_USAGE}, without a stack trace;
     * any other failure is picocli's (the trace, {@link #EXIT_FAILURE}).
     */
    static int usageError(Exception failure, CommandLine command, CommandLine.ParseResult parsed) throws Exception {
        if (!(failure instanceof IllegalArgumentException)) {
            throw failure;
        }
        String message = failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage().lines().findFirst().orElse("");
        command.getErr().println(command.getColorScheme().errorText("shardline " + command.getCommandName() + ": " + message));
        command.getErr().flush();
        return EXIT_USAGE;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = ShardlineCli.class.getPackage().getImplementationVersion();
            return new String[] {"shardline " + (version == null ? "development build" : version)};
        }
    }
}
