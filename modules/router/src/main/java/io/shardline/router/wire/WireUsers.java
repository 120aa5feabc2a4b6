package io.shardline.router.wire;

import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;

import io.shardline.router.api.Scope;

/**
 * The users of a wire router, authenticated with SCRAM-SHA-256 as MongoDB's users are: each with roles, and
 * optionally bound to a tenant, whose requests are then scoped exactly as an HTTP request with that
 * {@code X-Tenant-Id}. Only the SCRAM credential derived from a password is kept, never the password.
 */
public final class WireUsers {

    /** Iterations of the password hash, MongoDB's default for SCRAM-SHA-256. */
    static final int ITERATIONS = 15_000;

    /** What a user may run. */
    public enum Role {
        /** Reads: find, getMore, count, distinct, aggregate, listings. */
        READ("read"),
        /** Reads and writes: insert, update, delete, findAndModify. */
        READ_WRITE("readWrite"),
        /** Everything, administration included (indexes, collections). */
        ADMIN("admin");

        private final String label;

        Role(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        /** @throws IllegalArgumentException naming the accepted roles */
        public static Role parse(String label) {
            for (Role role : values()) {
                if (role.label.equals(label)) {
                    return role;
                }
            }
            throw new IllegalArgumentException("role '" + label + "' is not one of read, readWrite, admin");
        }

        boolean allows(Role required) {
            return this == ADMIN || this == required || this == READ_WRITE && required == READ;
        }
    }

    /** A user as the router knows it. */
    public record User(String name, Set<Role> roles, String tenant) {

        public User {
            roles = Collections.unmodifiableSet(EnumSet.copyOf(roles));
        }

        /** Whose documents this user's requests reach. */
        public Scope scope() {
            return tenant == null ? Scope.service() : Scope.tenant(tenant);
        }

        boolean allows(Role required) {
            return roles.stream().anyMatch(role -> role.allows(required));
        }
    }

    private record Entry(User user, ScramCredential credential) {
    }

    private final Map<String, Entry> users = new LinkedHashMap<>();

    private WireUsers() {
    }

    /** No users: the wire router then serves only the loopback interface, without authentication. */
    public static WireUsers none() {
        return new WireUsers();
    }

    /**
     * Adds a user.
     *
     * @param password printable ASCII (for which SASLprep, which MongoDB's drivers apply, changes nothing)
     * @throws IllegalArgumentException naming what is wrong: a name used twice, no role, a tenant-bound admin, a
     *                                  password that is empty or not printable ASCII
     */
    public WireUsers with(String name, String password, Set<Role> roles, String tenant) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("user name must not be blank");
        }
        if (users.containsKey(name)) {
            throw new IllegalArgumentException("user " + name + " is declared twice");
        }
        if (roles == null || roles.isEmpty()) {
            throw new IllegalArgumentException("user " + name + ": roles: at least one of read, readWrite, admin is required");
        }
        if (tenant != null && roles.contains(Role.ADMIN)) {
            throw new IllegalArgumentException("user " + name + ": a user bound to tenant " + tenant
                + " cannot be admin (administration reaches every tenant)");
        }
        if (password == null || password.isEmpty() || !password.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException("user " + name + ": the password must be non-empty printable ASCII");
        }
        try {
            ScramCredential credential = new ScramFormatter(ScramMechanism.SCRAM_SHA_256).generateCredential(password, ITERATIONS);
            users.put(name, new Entry(new User(name, roles, tenant), credential));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM lacks SHA-256, which SCRAM-SHA-256 needs", e);
        }
        return this;
    }

    public boolean isEmpty() {
        return users.isEmpty();
    }

    public Optional<User> user(String name) {
        return Optional.ofNullable(users.get(name)).map(Entry::user);
    }

    /** The user's SCRAM credential, or {@code null} for an unknown user. */
    ScramCredential credential(String name) {
        Entry entry = users.get(name);
        return entry == null ? null : entry.credential();
    }
}
