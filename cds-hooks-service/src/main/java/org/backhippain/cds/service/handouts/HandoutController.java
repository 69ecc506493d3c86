package org.backhippain.cds.service.handouts;

import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.service.system.CdsException;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.HtmlUtils;

/**
 * Printable patient handouts at {@code /handouts/{name}}, rendered from the content's {@code
 * input/pages/{name}.md} (cards link them, e.g. imaging-not-indicated and self-care).
 */
@RestController
class HandoutController {
  private final ContentPackage content;
  private final Parser markdown = Parser.builder().build();
  private final HtmlRenderer html = HtmlRenderer.builder().escapeHtml(true).build();

  HandoutController(ContentPackage content) {
    this.content = content;
  }

  @GetMapping(path = "/handouts/{name}", produces = MediaType.TEXT_HTML_VALUE)
  String handout(@PathVariable String name) {
    if (!name.matches("[a-z0-9-]+")) {
      throw CdsException.notFound("no handout '" + name + "'");
    }
    String text =
        content
            .file("pages/" + name + ".md")
            .orElseThrow(() -> CdsException.notFound("no handout '" + name + "'"));
    String title = text.lines().findFirst().orElse("Handout").replaceFirst("^#\\s*", "");
    return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>%s</title>
        <style>
        body{font-family:Georgia,serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.55;font-size:1.05rem}
        h1{font-size:1.6rem} h2{font-size:1.15rem;margin-top:1.6rem}
        @media print{body{margin:0;font-size:11pt} a{color:inherit;text-decoration:none}}
        </style></head>
        <body>
        %s
        </body></html>
        """
        .formatted(HtmlUtils.htmlEscape(title), html.render(markdown.parse(text)));
  }
}
