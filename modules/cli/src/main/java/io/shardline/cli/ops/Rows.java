package io.shardline.cli.ops;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Rows with named columns, printed as an aligned table, JSON lines or CSV. */
public final class Rows {

    /** How rows are printed. */
    public enum Format { TABLE, JSON, CSV }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<String> columns;
    private final List<List<Object>> rows = new ArrayList<>();

    public Rows(List<String> columns) {
        this.columns = List.copyOf(columns);
    }

    public Rows add(Object... values) {
        if (values.length != columns.size()) {
            throw new IllegalArgumentException("a row of " + columns + " needs " + columns.size() + " values, got " + values.length);
        }
        rows.add(java.util.Arrays.asList(values));
        return this;
    }

    public List<String> columns() {
        return columns;
    }

    public List<List<Object>> rows() {
        return rows;
    }

    public void print(PrintWriter out, Format format, boolean header) {
        switch (format) {
            case JSON -> rows.forEach(row -> out.println(json(row)));
            case CSV -> {
                if (header) {
                    out.println(String.join(",", columns.stream().map(Rows::csv).toList()));
                }
                rows.forEach(row -> out.println(String.join(",", row.stream().map(value -> csv(text(value))).toList())));
            }
            default -> table(out, header);
        }
        out.flush();
    }

    private void table(PrintWriter out, boolean header) {
        int[] widths = new int[columns.size()];
        for (int i = 0; i < widths.length; i++) {
            widths[i] = header ? columns.get(i).length() : 0;
            for (List<Object> row : rows) {
                widths[i] = Math.max(widths[i], text(row.get(i)).length());
            }
        }
        if (header) {
            out.println(line(columns.stream().map(c -> (Object) c.toUpperCase(java.util.Locale.ROOT)).toList(), widths));
        }
        rows.forEach(row -> out.println(line(row, widths)));
    }

    private static String line(List<Object> values, int[] widths) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < values.size(); i++) {
            String text = text(values.get(i));
            line.append(text);
            if (i < values.size() - 1) {
                line.append(" ".repeat(widths[i] - text.length() + 2));
            }
        }
        return line.toString().stripTrailing();
    }

    private String json(List<Object> row) {
        Map<String, Object> object = new LinkedHashMap<>();
        for (int i = 0; i < columns.size(); i++) {
            Object value = row.get(i);
            object.put(columns.get(i), value instanceof Number || value instanceof Boolean || value == null ? value : text(value));
        }
        try {
            return JSON.writeValueAsString(object);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a row cannot be written as JSON", e);
        }
    }

    static String text(Object value) {
        return value == null ? "" : value.toString();
    }

    private static String csv(String value) {
        return value.contains(",") || value.contains("\"") || value.contains("\n") ? "\"" + value.replace("\"", "\"\"") + "\"" : value;
    }
}
