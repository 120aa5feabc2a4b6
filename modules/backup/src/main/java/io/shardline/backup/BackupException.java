package io.shardline.backup;

/** A backup or restore that cannot go on; the message names the file, topic or field at fault. */
public final class BackupException extends RuntimeException {

    public BackupException(String message) {
        super(message);
    }

    public BackupException(String message, Throwable cause) {
        super(message, cause);
    }
}
