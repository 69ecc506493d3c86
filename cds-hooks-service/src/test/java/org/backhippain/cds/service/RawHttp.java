package org.backhippain.cds.service;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, for what a well-behaved client will not send: a path exactly as
 * written (no normalisation, no re-encoding), a body that stops half-way.
 */
public final class RawHttp implements AutoCloseable {
  private final Socket socket;

  public RawHttp(int port) {
    try {
      socket = new Socket("localhost", port);
      socket.setSoTimeout(20_000);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends the request line and headers (and {@code body}, possibly only part of the declared). */
  public RawHttp send(String method, String path, Map<String, String> headers, String body) {
    StringBuilder request = new StringBuilder(method + " " + path + " HTTP/1.1\r\n");
    request.append("Host: localhost\r\n");
    headers.forEach(
        (name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
    request.append("\r\n").append(body);
    try {
      socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.UTF_8));
      socket.getOutputStream().flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** A complete request, {@code Connection: close}: its answer. */
  public static Response exchange(
      int port, String method, String path, Map<String, String> headers) {
    Map<String, String> all = new LinkedHashMap<>(headers);
    all.put("Connection", "close");
    try (RawHttp http = new RawHttp(port)) {
      return http.send(method, path, all, "").response();
    }
  }

  /**
   * Reads the answer until the server closes the connection (or, for a kept-alive one, until the
   * declared length has arrived); status -1 when no complete head arrived within 20 s.
   */
  public Response response() {
    try {
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      byte[] buffer = new byte[8192];
      boolean closed = false;
      while (true) {
        int n;
        try {
          n = in.read(buffer);
        } catch (SocketTimeoutException e) {
          break;
        }
        if (n < 0) {
          closed = true;
          break;
        }
        all.write(buffer, 0, n);
        Response partial = Response.parse(all.toString(StandardCharsets.UTF_8), false);
        if (partial != null && partial.complete()) {
          break;
        }
      }
      Response response = Response.parse(all.toString(StandardCharsets.UTF_8), closed);
      return response != null
          ? response
          : new Response(-1, Map.of(), all.toString(StandardCharsets.UTF_8), closed);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether the server has closed the connection (read returns end of stream in time). */
  public boolean closedByServer(int millis) {
    try {
      socket.setSoTimeout(millis);
      InputStream in = socket.getInputStream();
      while (in.read() >= 0) {
        // an answer's rest
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  /** A parsed answer; {@code status} -1 when nothing (or no status line) arrived. */
  public record Response(int status, Map<String, String> headers, String body, boolean closed) {

    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    boolean complete() {
      String length = header("content-length");
      return length != null
          && body.getBytes(StandardCharsets.UTF_8).length >= Integer.parseInt(length);
    }

    static Response parse(String raw, boolean closed) {
      int end = raw.indexOf("\r\n\r\n");
      if (end < 0) {
        return closed ? new Response(-1, Map.of(), raw, true) : null;
      }
      String[] lines = raw.substring(0, end).split("\r\n");
      String[] statusLine = lines[0].split(" ");
      Map<String, String> headers = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        headers.merge(
            lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT),
            lines[i].substring(colon + 1).strip(),
            (a, b) -> a + ", " + b);
      }
      String body = raw.substring(end + 4);
      if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        body = dechunk(body);
      }
      return new Response(Integer.parseInt(statusLine[1]), headers, body, closed);
    }

    private static String dechunk(String chunked) {
      StringBuilder body = new StringBuilder();
      int at = 0;
      while (at < chunked.length()) {
        int lineEnd = chunked.indexOf("\r\n", at);
        if (lineEnd < 0) {
          break;
        }
        int size = Integer.parseInt(chunked.substring(at, lineEnd).strip(), 16);
        if (size == 0) {
          break;
        }
        body.append(chunked, lineEnd + 2, Math.min(chunked.length(), lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      return body.toString();
    }
  }
}
