// EPUBCheck on several EPUBs in one Java run: java -cp epubcheck.jar EpubCheckEach.java REPORT.json BOOK.epub ...
// Each pair is checked as `java -jar epubcheck.jar --json REPORT.json BOOK.epub` checks it (the same class
// and options, a fresh checker each time), but the JVM starts and EPUBCheck loads its schemas once:
// three EPUBs take a third of the CPU time three separate runs take (tests/test_epub.py).
public class EpubCheckEach {
    public static void main(String[] args) {
        for (int i = 0; i + 1 < args.length; i += 2) {
            new com.adobe.epubcheck.tool.EpubChecker().run(new String[] {"--json", args[i], args[i + 1]});
        }
    }
}
