package org.backhippain.cds.service.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.backhippain.cds.service.CapturedLogsAccess;
import org.junit.jupiter.api.Test;

/**
 * Deny by default, with the operator credential (HTTP Basic) where the operator works: analytics
 * and the actuator beyond health. An EHR's token opens /cds-services and nothing else; the
 * operator's opens nothing under /cds-services but analytics. CORS only for configured origins.
 */
class OperatorAccessTests extends SecuredService {
  static final String ANALYTICS = "/cds-services/analytics";
  static final String OPERATOR = basic("ops:ops-secret");

  @Test
  void analyticsNeedsTheOperatorCredential() {
    HttpResponse<String> none = get(ANALYTICS, null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate"))
        .contains("Basic realm=\"cds-operator\"");
    assertThat(none.headers().firstValue("Content-Type"))
        .contains("application/json;charset=UTF-8");
    assertThat(none.body())
        .isEqualTo(
            "{\"error\":\"unauthorized\",\"status\":401,"
                + "\"message\":\"the operator credential is required\"}");
    assertThat(get(ANALYTICS, basic("ops:wrong")).statusCode()).isEqualTo(401);
    HttpResponse<String> operator = get(ANALYTICS, OPERATOR);
    assertThat(operator.statusCode()).isEqualTo(200);
    assertThat(operator.body()).startsWith("{\"rules\":");
  }

  @Test
  void anEhrTokenIsForbiddenOnAnalyticsAndAnInvalidOneUnauthorized() {
    HttpResponse<String> ehr = get(ANALYTICS, token(ANALYTICS));
    assertThat(ehr.statusCode()).isEqualTo(403);
    assertThat(ehr.body())
        .isEqualTo(
            "{\"error\":\"forbidden\",\"status\":403,"
                + "\"message\":\"this credential does not give access to this resource\"}");
    assertThat(ehr.headers().firstValue("WWW-Authenticate")).isPresent();
    assertThat(get(ANALYTICS, token("/cds-services")).statusCode())
        .as("a token for another URL")
        .isEqualTo(401);
    assertThat(get(ANALYTICS, "not.a.jwt").statusCode()).isEqualTo(401);
  }

  @Test
  void theOperatorCredentialOpensNothingElseUnderCdsServices() {
    HttpResponse<String> hook = post(HOOK_PATH, OPERATOR, hookBody());
    assertThat(hook.statusCode()).isEqualTo(403);
    assertThat(hook.headers().firstValue("WWW-Authenticate"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
    assertThat(get("/cds-services", OPERATOR).statusCode()).isEqualTo(403);
    assertThat(post(HOOK_PATH + "/feedback", OPERATOR, "{\"feedback\":[]}").statusCode())
        .isEqualTo(403);
  }

  @Test
  void theActuatorBeyondHealthNeedsTheOperator() {
    assertThat(get("/actuator/health/readiness", null).statusCode()).isEqualTo(200);
    assertThat(get("/actuator/health", null).statusCode()).isEqualTo(200);
    assertThat(get("/actuator/metrics", null).statusCode()).isEqualTo(401);
    assertThat(get("/actuator/info", null).statusCode()).isEqualTo(401);
    assertThat(get("/actuator/metrics", token("/actuator/metrics")).statusCode())
        .as("no EHR token is even read outside /cds-services")
        .isEqualTo(401);
    assertThat(get("/actuator/metrics", OPERATOR).statusCode()).isEqualTo(200);
  }

  @Test
  void everythingElseIsDeniedByDefault() {
    for (String path :
        new String[] {
          "/", "/nope", "/bench/floor/" + PV, "/bench/json-floor/" + PV, "/fhir/metadata"
        }) {
      HttpResponse<String> response = get(path, null);
      assertThat(response.statusCode()).as(path).isEqualTo(401);
      assertThat(response.body()).as(path).contains("\"error\":\"unauthorized\"");
    }
    assertThat(get("/review/", null).statusCode()).isEqualTo(200);
    assertThat(get("/handouts/no-such-handout", null).statusCode()).isEqualTo(404);
  }

  @Test
  void springBootGeneratesNoPassword() {
    assertThat(CapturedLogsAccess.lines())
        .noneMatch(line -> line.contains("generated security password"));
  }

  HttpResponse<String> preflight(String origin) {
    return send(
        HttpRequest.newBuilder(URI.create(url(HOOK_PATH)))
            .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization,content-type"),
        null);
  }

  @Test
  void corsPreflightFromAConfiguredOriginOnlyAndWithoutAToken() {
    HttpResponse<String> allowed = preflight("https://ehr-app.test");
    assertThat(allowed.statusCode()).isEqualTo(200);
    assertThat(allowed.headers().firstValue("Access-Control-Allow-Origin"))
        .contains("https://ehr-app.test");
    assertThat(allowed.headers().firstValue("Access-Control-Allow-Headers").orElse(""))
        .containsIgnoringCase("authorization")
        .containsIgnoringCase("content-type");
    HttpResponse<String> foreign = preflight("https://sandbox.cds-hooks.org");
    assertThat(foreign.statusCode()).isEqualTo(403);
    assertThat(foreign.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    assertThat(foreign.body()).contains("\"error\":\"forbidden_origin\"");
  }
}
