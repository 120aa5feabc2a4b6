package io.shardline.schemas;

import java.util.Set;

import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;

/** The phases a migration ends in, in one place for every reader of the migrations topic. */
public final class MigrationPhases {

    /** CLEANED (moved), ABORTED (source untouched) and ROLLED_BACK (source owns the range again). */
    public static final Set<MigrationPhase> ENDED = Set.of(MigrationPhase.CLEANED, MigrationPhase.ABORTED, MigrationPhase.ROLLED_BACK);

    private MigrationPhases() {
    }

    public static boolean ended(MigrationState migration) {
        return ENDED.contains(migration.getPhase());
    }
}
