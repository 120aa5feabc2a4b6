package io.shardline.core.time;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as people write them in options and in the cluster file: a whole number and a unit ({@code 500ms},
 * {@code 90s}, {@code 5m}, {@code 1h}, {@code 1d}), or ISO-8601 ({@code PT5M}). Callers decide which values they
 * accept (the cluster file, for one, wants more than zero).
 */
public final class Durations {

    /** The forms accepted, for messages that tell a user what to write. */
    public static final String FORMS = "500ms, 90s, 5m, 1h, 1d or PT5M";

    private static final Pattern SHORT = Pattern.compile("(\\d+)(ms|s|m|h|d)");

    private Durations() {
    }

    /**
     * Reads a duration; surrounding blanks are ignored.
     *
     * @throws IllegalArgumentException when the text is none of the accepted forms or does not fit a {@link Duration}
     */
    public static Duration parse(String text) {
        String value = text.trim();
        Matcher matcher = SHORT.matcher(value);
        try {
            if (matcher.matches()) {
                long amount = Long.parseLong(matcher.group(1));
                return switch (matcher.group(2)) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    case "h" -> Duration.ofHours(amount);
                    default -> Duration.ofDays(amount);
                };
            }
            return Duration.parse(value);
        } catch (NumberFormatException | ArithmeticException | DateTimeParseException e) {
            throw new IllegalArgumentException("'" + text + "' is not a duration: use e.g. " + FORMS, e);
        }
    }
}
