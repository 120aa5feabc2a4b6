package io.shardline.cli.demo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

import org.bson.Document;

import io.shardline.controlplane.AuthServiceLayout;

/**
 * The ids the workload has written, per tenant and collection: what later requests pick from, and what retention
 * purges. Safe for the concurrent clients.
 */
final class WrittenIds {

    private final Map<String, List<String>> users = new ConcurrentHashMap<>();
    private final Map<String, List<String[]>> sessions = new ConcurrentHashMap<>();
    private final Map<String, List<String>> auditEntries = new ConcurrentHashMap<>();

    WrittenIds(List<String> tenants) {
        for (String tenant : tenants) {
            users.put(tenant, Collections.synchronizedList(new ArrayList<>()));
            sessions.put(tenant, Collections.synchronizedList(new ArrayList<>()));
            auditEntries.put(tenant, Collections.synchronizedList(new ArrayList<>()));
        }
    }

    /** Keeps a written document's id (a session's with its user id). */
    void remember(String tenant, String namespace, Document document) {
        switch (namespace) {
            case AuthServiceLayout.USERS -> users.get(tenant).add(document.getString("_id"));
            case AuthServiceLayout.SESSIONS -> sessions.get(tenant).add(new String[] {document.getString("_id"), document.getString("userId")});
            default -> auditEntries.get(tenant).add(document.getString("_id"));
        }
    }

    boolean noUsers(String tenant) {
        return users.get(tenant).isEmpty();
    }

    /** A user id of the tenant, or null when it has none. */
    String user(String tenant, SplittableRandom random) {
        return pick(users.get(tenant), random);
    }

    /** A session of the tenant as its id and its user id, or null when it has none. */
    String[] session(String tenant, SplittableRandom random) {
        return pick(sessions.get(tenant), random);
    }

    /** The tenant's audit entry ids written so far, forgotten. */
    List<String> drainAuditEntries(String tenant) {
        return drain(auditEntries.get(tenant));
    }

    /** The tenant's session ids written so far, forgotten. */
    List<String> drainSessions(String tenant) {
        List<String> ids = new ArrayList<>();
        for (String[] session : drain(sessions.get(tenant))) {
            ids.add(session[0]);
        }
        return ids;
    }

    /** Forgets a user and its sessions: a deletion removes them, and no request should pick them after. */
    void forgetUser(String tenant, String user) {
        List<String> tenantUsers = users.get(tenant);
        synchronized (tenantUsers) {
            tenantUsers.remove(user);
        }
        List<String[]> tenantSessions = sessions.get(tenant);
        synchronized (tenantSessions) {
            tenantSessions.removeIf(session -> session[1].equals(user));
        }
    }

    private static <T> List<T> drain(List<T> list) {
        synchronized (list) {
            List<T> copy = new ArrayList<>(list);
            list.clear();
            return copy;
        }
    }

    private static <T> T pick(List<T> list, SplittableRandom random) {
        synchronized (list) {
            return list.isEmpty() ? null : list.get(random.nextInt(list.size()));
        }
    }
}
