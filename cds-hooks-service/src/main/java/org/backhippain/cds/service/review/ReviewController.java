package org.backhippain.cds.service.review;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.backhippain.cds.service.system.CdsException;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/**
 * The rule book at {@code /review} (where every card's {@code source.url} lands): pages the build
 * generated from the package (content-build's {@code RuleBookGenerator}), served as they are.
 */
@RestController
class ReviewController {

  @GetMapping(
      path = {"/review", "/review/"},
      produces = MediaType.TEXT_HTML_VALUE)
  String index() {
    return page("index");
  }

  @GetMapping(path = "/review/{name}", produces = MediaType.TEXT_HTML_VALUE)
  String rule(@PathVariable String name) {
    if (!name.matches("[a-z0-9-]+")) {
      throw CdsException.notFound("no rule-book page '" + name + "'");
    }
    return page(name);
  }

  private static String page(String name) {
    try (InputStream in =
        ReviewController.class.getClassLoader().getResourceAsStream("rulebook/" + name + ".html")) {
      if (in == null) {
        throw CdsException.notFound("no rule-book page '" + name + "'");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
