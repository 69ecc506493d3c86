package org.backhippain.cds.service.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.backhippain.cds.service.HookClient;
import org.junit.jupiter.api.Test;

/**
 * {@code X-Forwarded-*} from an address that is not a configured proxy change nothing: not the
 * audience a token must carry, not the links in the cards, which start with the configured public
 * base URL the token was addressed to.
 */
class ForwardedHeaderTests extends SecuredService {

  HttpResponse<String> hookViaForgedProxyHeaders(String token) {
    return send(
        HttpRequest.newBuilder(URI.create(url(HOOK_PATH)))
            .header("Content-Type", "application/json")
            .header("X-Forwarded-Host", "evil.test")
            .header("X-Forwarded-Proto", "https")
            .header("X-Forwarded-Port", "443")
            .header("X-Forwarded-For", "10.9.8.7")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    HookClient.smokerWithBackPain("fw-" + UUID.randomUUID()).toString())),
        token);
  }

  static JsonNode smokingCard(HttpResponse<String> response) {
    for (JsonNode card : HookClient.json(response.body()).path("cards")) {
      if ("smoking-cessation".equals(card.path("source").path("topic").path("code").asText())) {
        return card;
      }
    }
    throw new AssertionError("no smoking-cessation card in " + response.body());
  }

  @Test
  void forwardedHeadersFromAnUntrustedAddressChangeNeitherTheAudienceNorTheLinks() {
    HttpResponse<String> answer = hookViaForgedProxyHeaders(token(HOOK_PATH));
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    JsonNode card = smokingCard(answer);
    assertThat(card.path("source").path("url").asText()).startsWith(PUBLIC + "/review/");
    assertThat(answer.body()).doesNotContain("evil.test");

    String forgedAudience = token(HOOK_PATH, c -> c.audience("https://evil.test" + HOOK_PATH));
    assertThat(hookViaForgedProxyHeaders(forgedAudience).statusCode()).isEqualTo(401);
  }

  @Test
  void linksStartWithTheIngressTheTokenWasAddressedTo() {
    HttpResponse<String> answer =
        hookViaForgedProxyHeaders(token(HOOK_PATH, c -> c.audience(SECOND_INGRESS + HOOK_PATH)));
    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(smokingCard(answer).path("source").path("url").asText())
        .startsWith(SECOND_INGRESS + "/review/");
  }
}
