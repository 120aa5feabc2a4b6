package io.shardline.admin;

import java.time.Clock;
import java.time.Duration;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * What the admin API asks of a bearer token beyond its signature: an expiry ({@code exp}), a validity no longer than
 * the configured maximum (counted from its {@code iat}, and from now), and no {@code nbf} in the future. A token that
 * never expires, or is valid for years, is a leaked credential that cannot be taken back.
 */
public final class TokenPolicy {

    /** The longest a token may be valid unless the admin role is told otherwise ({@code --max-token-lifetime}). */
    public static final Duration DEFAULT_MAX_LIFETIME = Duration.ofHours(24);

    private final Duration maxLifetime;
    private final Clock clock;

    public TokenPolicy(Duration maxLifetime, Clock clock) {
        if (maxLifetime == null || maxLifetime.isNegative() || maxLifetime.isZero()) {
            throw new IllegalArgumentException("maxTokenLifetime: must be positive, was " + maxLifetime);
        }
        this.maxLifetime = maxLifetime;
        this.clock = clock;
    }

    public Duration maxLifetime() {
        return maxLifetime;
    }

    /** Why the claims of a token whose signature checked out are not accepted, or null if they are. */
    public String problem(JsonObject claims) {
        long now = clock.instant().getEpochSecond();
        if (!(claims.getValue("exp") instanceof Number expiry)) {
            return "token: an expiry (exp) is required";
        }
        long exp = expiry.longValue();
        if (exp <= now) {
            return "token: expired";
        }
        long max = maxLifetime.toSeconds();
        if (exp - now > max || claims.getValue("iat") instanceof Number issued && exp - issued.longValue() > max) {
            return "token: valid for longer than the maximum lifetime of " + maxLifetime.toSeconds() + " s";
        }
        if (claims.containsKey("nbf") && !(claims.getValue("nbf") instanceof Number)) {
            return "token: nbf must be a time in seconds";
        }
        if (claims.getValue("nbf") instanceof Number notBefore && notBefore.longValue() > now) {
            return "token: not valid before " + notBefore.longValue() + " (nbf is in the future)";
        }
        return null;
    }

    /** A route handler after the JWT handler: 401 naming the problem, else on to the next handler. */
    void handle(RoutingContext ctx) {
        String problem = problem(claims(ctx.user()));
        if (problem != null) {
            unauthorized(ctx, problem);
            return;
        }
        ctx.next();
    }

    /** The token's claims: Vert.x keeps the decoded token among the user's attributes, with exp, iat and nbf beside it. */
    static JsonObject claims(io.vertx.ext.auth.User user) {
        JsonObject claims = user.principal().copy();
        JsonObject attributes = user.attributes();
        if (attributes.getValue("accessToken") instanceof JsonObject token) {
            claims.mergeIn(token);
        }
        for (String time : java.util.List.of("exp", "iat", "nbf")) {
            if (!claims.containsKey(time) && attributes.containsKey(time)) {
                claims.put(time, attributes.getValue(time));
            }
        }
        return claims;
    }

    /** A route handler before the JWT handler: an {@code Authorization} header naming the scheme without a token is 401, not 400. */
    static void requireToken(RoutingContext ctx) {
        String header = ctx.request().getHeader("Authorization");
        if (header != null && header.strip().regionMatches(true, 0, "Bearer", 0, 6) && header.strip().substring(6).isBlank()) {
            unauthorized(ctx, "token: the bearer token is empty");
            return;
        }
        ctx.next();
    }

    private static void unauthorized(RoutingContext ctx, String problem) {
        ctx.response().setStatusCode(401).putHeader("content-type", "application/json").putHeader("WWW-Authenticate", "Bearer")
            .end(new JsonObject().put("error", problem).put("status", 401).encode());
    }
}
