package io.shardline.controlplane.alerts;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.shardline.schemas.avro.Alert;
import io.shardline.schemas.avro.AlertStatus;

/**
 * What the alerts topic says: the alerts firing (the latest record of each fingerprint is FIRING), when each was last
 * written, and which alerts were written already, each as the event that raised or resolved it, its fingerprint and
 * status, so that an event read again (after a restart, before its offset was committed) writes nothing twice. Built
 * by {@link #record recording} the topic from its beginning, then every alert written. Safe to read from other threads.
 */
public final class FiringAlerts {

    /** How many written alerts are remembered for {@link #written}: far more than are read again after a restart. */
    private static final int REMEMBERED = 100_000;

    private final Map<String, Alert> firing = new LinkedHashMap<>();
    private final Map<String, Instant> writtenAt = new HashMap<>();
    private final Set<String> written = Collections.newSetFromMap(new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED;
        }
    });

    /** Takes in an alert as written to the topic at {@code at}. */
    public synchronized void record(Alert alert, Instant at) {
        written.add(key(alert));
        if (alert.getStatus() == AlertStatus.FIRING) {
            firing.put(alert.getFingerprint(), alert);
            writtenAt.put(alert.getFingerprint(), at);
        } else {
            firing.remove(alert.getFingerprint());
            writtenAt.remove(alert.getFingerprint());
        }
    }

    /** Whether this alert (the same event, fingerprint and status) is on the topic already. */
    public synchronized boolean written(Alert alert) {
        return written.contains(key(alert));
    }

    /** The firing alert of a fingerprint, or {@code null}. */
    public synchronized Alert firing(String fingerprint) {
        return firing.get(fingerprint);
    }

    /** Every firing alert, oldest first. */
    public synchronized List<Alert> all() {
        return new ArrayList<>(firing.values());
    }

    /** How many alerts of a name fire. */
    public synchronized long count(String alertname) {
        return firing.values().stream().filter(alert -> alert.getAlertname().equals(alertname)).count();
    }

    /** The firing alerts last written before {@code cutoff}: those the topic's retention will delete first. */
    public synchronized List<Alert> writtenBefore(Instant cutoff) {
        List<Alert> old = new ArrayList<>();
        firing.forEach((fingerprint, alert) -> {
            if (writtenAt.get(fingerprint).isBefore(cutoff)) {
                old.add(alert);
            }
        });
        return old;
    }

    /** Forgets everything: another alerter took over, and this one reads the topic again when it comes back. */
    public synchronized void clear() {
        firing.clear();
        writtenAt.clear();
        written.clear();
    }

    private static String key(Alert alert) {
        return alert.getEventId() + "|" + alert.getFingerprint() + "|" + alert.getStatus();
    }
}
