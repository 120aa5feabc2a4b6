package io.shardline.worker.command;

import java.util.Map;
import java.util.function.Supplier;

import io.shardline.controlplane.CommandRules;

/** A command that cannot be carried out, with the field of the command record at fault. */
final class InvalidCommand extends RuntimeException {

    final String field;

    InvalidCommand(String field, String message) {
        super(field + ": " + message);
        this.field = field;
    }

    /** Runs a check of {@link CommandRules}, naming a broken rule's subject as the command record's field for it. */
    static <T> T checked(Map<CommandRules.Subject, String> fields, Supplier<T> check) {
        try {
            return check.get();
        } catch (CommandRules.Violation violation) {
            throw new InvalidCommand(fields.getOrDefault(violation.subject(), "command"), violation.getMessage());
        }
    }

    static void checked(Map<CommandRules.Subject, String> fields, Runnable check) {
        checked(fields, () -> {
            check.run();
            return null;
        });
    }
}
