package io.shardline.router.api;

import java.util.List;

/**
 * What an insert of several statements did: how many documents were inserted, which statements failed and why, and
 * the shards written to.
 */
public record InsertOutcome(long inserted, List<StatementError> errors, List<String> shards) {

    public InsertOutcome {
        errors = List.copyOf(errors);
        shards = List.copyOf(shards);
    }

    /**
     * One failed statement.
     *
     * @param index the statement's position in the request
     * @param error why it failed; a shard's own error is its cause (with MongoDB's code)
     */
    public record StatementError(int index, RouterException error) {
    }
}
