package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.backhippain.cds.cql.ContentCase;
import org.backhippain.cds.cql.ContentPackage;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * No PHI or secrets in logs: every line logged while the suites ran (and while this class sends
 * every case, tokens, JWT-shaped headers and bad requests) is checked for patient names, birth
 * dates, resource bodies, access tokens and JWTs; and no line is forged — CR, LF and other line
 * breaks a caller sends (in a hook instance, a hook name, a service id, a FHIR server, a feedback
 * entry) stay escaped inside the line that logs them. Runs last.
 */
@ServiceTest
@Order(Integer.MAX_VALUE)
class LogHygieneTests {
  static final String TOKEN = "hygiene-secret-access-token-7f3a";
  static final String JWT =
      "eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2VociIsImp0aSI6IjEifQ.c2ln";
  static final Pattern JWT_SHAPE = Pattern.compile("eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}");

  /** What a forged line would start with. */
  static final String FORGED = "FORGED-LINE";

  /** Line breaks of every kind, each followed by a line that pretends to be the service's. */
  static final List<String> BREAKS = List.of("\r\n", "\n", "\r", "\u2028", "\u0085", "\u000b");

  static String forging(String prefix, String lineBreak) {
    return prefix + lineBreak + FORGED + " ERROR [x] o.b.cds.service.hooks.HookService - forged";
  }

  /** Lines (of every captured entry, split at every kind of line break) that a caller started. */
  static List<String> forgedLines(List<String> entries) {
    List<String> forged = new ArrayList<>();
    for (String entry : entries) {
      for (String line : entry.split("\r\n|[\r\n\u000b\u000c\u0085\u2028\u2029]")) {
        if (line.startsWith(FORGED)) {
          forged.add(line);
        }
      }
    }
    return forged;
  }

  @LocalServerPort int port;
  @Autowired ContentPackage content;
  @Autowired FhirContext fhir;
  @Autowired TestClock clock;
  @Autowired org.springframework.core.env.Environment environment;

  @Test
  void noPatientNamesBirthDatesResourceBodiesTokensOrJwtsAreLogged() throws Exception {
    HookClient client = new HookClient(port);
    Set<String> names = new LinkedHashSet<>();
    Set<String> birthDates = new LinkedHashSet<>();
    for (ContentCase c : ContentCase.all(content, fhir)) {
      for (var entry : c.bundle().getEntry()) {
        if (entry.getResource() instanceof Patient p) {
          for (HumanName name : p.getName()) {
            names.add(name.getFamily());
            name.getGiven().forEach(g -> names.add(g.getValue()));
          }
          if (p.hasBirthDate()) {
            birthDates.add(p.getBirthDateElement().getValueAsString());
          }
        }
      }
      clock.set(c.evaluationDate());
      ObjectNode request = HookClient.caseRequest(c, c.hook(), fhir);
      request.put("fhirServer", client.fhirBase());
      request.putObject("fhirAuthorization").put("access_token", TOKEN).put("token_type", "Bearer");
      client.post("back-hip-pain-" + c.hook(), request);
    }
    HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(client.base() + "/cds-services"))
                .header("Authorization", "Bearer " + JWT)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    client.postRaw(
        "back-hip-pain-patient-view",
        "application/json",
        "{\"hook\": \"patient-view\", \"context\": {\"patientId\": \"x\", \"name\": \"Rivera\"");
    ObjectNode unreachable = HookClient.request("patient-view", "whole-record");
    unreachable.put("fhirServer", "http://127.0.0.1:9/fhir");
    unreachable.putObject("fhirAuthorization").put("access_token", TOKEN);
    client.post("back-hip-pain-patient-view", unreachable);

    sendForgeries(client);

    List<String> lines = new ArrayList<>(CapturedLogs.LINES);
    assertThat(lines)
        .as("the forgeries reached the log, escaped")
        .anyMatch(l -> l.contains("\\r\\n" + FORGED))
        .anyMatch(l -> l.contains("\\u2028" + FORGED));
    assertThat(forgedLines(lines)).as("lines started by request content").isEmpty();
    assertThat(forgedLines(List.of("a\r\n" + FORGED + " x")))
        .as("the detector catches a forged line")
        .hasSize(1);
    assertThat(lines).as("the suites did log").hasSizeGreaterThan(50);
    assertThat(lines).as("hook outcomes are logged").anyMatch(l -> l.contains("cards=["));
    // The detector itself must catch what it is looking for.
    assertThat(
            offences(
                List.of("patient Rivera born 1975-04-02 token " + TOKEN + " " + JWT),
                names,
                birthDates))
        .hasSize(4);
    assertThat(offences(lines, names, birthDates))
        .as("log lines carrying PHI or secrets")
        .isEmpty();
    String pseudonymKey = environment.getProperty("cds.feedback.pseudonym-key");
    assertThat(pseudonymKey).isNotBlank();
    assertThat(lines)
        .as("log lines showing the patient pseudonym key")
        .noneMatch(
            l ->
                l.toLowerCase(java.util.Locale.ROOT)
                    .contains(pseudonymKey.toLowerCase(java.util.Locale.ROOT)));
  }

  /** Requests carrying forged log lines wherever a caller's text may reach a log line. */
  void sendForgeries(HookClient client) throws Exception {
    for (String lineBreak : BREAKS) {
      ObjectNode hook = HookClient.smokerWithBackPain("forgery-patient");
      hook.put("hookInstance", forging("instance", lineBreak));
      client.post("back-hip-pain-patient-view", hook);
      ObjectNode wrongHook = HookClient.request(forging("patient-view", lineBreak), "p");
      client.post("back-hip-pain-patient-view", wrongHook);
      ObjectNode server = HookClient.request("patient-view", "ptref-pos-21-days");
      server.put("fhirServer", forging("http://localhost:" + port + "/fhir", lineBreak));
      client.post("back-hip-pain-patient-view", server);
      ObjectNode feedback = HookClient.JSON.createObjectNode();
      feedback
          .putArray("feedback")
          .addObject()
          .put("card", forging("card", lineBreak))
          .put("outcome", forging("accepted", lineBreak));
      client.post("back-hip-pain-patient-view/feedback", feedback);
      String encoded =
          java.net.URLEncoder.encode(
              forging("no-such-service", lineBreak), java.nio.charset.StandardCharsets.UTF_8);
      client.post(encoded.replace("+", "%20"), HookClient.request("patient-view", "p"));
      client.post(encoded.replace("+", "%20") + "/feedback", feedback);
    }
    org.slf4j.LoggerFactory.getLogger(LogHygieneTests.class)
        .warn(
            "an exception whose message a caller wrote",
            new IllegalStateException(forging("message", "\r\n")));
  }

  static List<String> offences(List<String> lines, Set<String> names, Set<String> birthDates) {
    List<String> offences = new ArrayList<>();
    for (String line : lines) {
      for (String name : names) {
        if (Pattern.compile("\\b" + Pattern.quote(name) + "\\b").matcher(line).find()) {
          offences.add("name " + name + ": " + line);
        }
      }
      for (String date : birthDates) {
        if (line.contains(date)) {
          offences.add("birth date: " + line);
        }
      }
      if (line.contains(TOKEN)
          || line.contains("secret-token")
          || line.contains("test-access-token")) {
        offences.add("token: " + line);
      }
      if (JWT_SHAPE.matcher(line).find()) {
        offences.add("JWT: " + line);
      }
      if (line.contains("\"resourceType\"")) {
        offences.add("resource body: " + line);
      }
    }
    return offences;
  }
}
