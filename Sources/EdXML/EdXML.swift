/// edXML packages (QCVN 102:2016/BTTTT): see docs/edxml.md.
public enum EdXML {
    public static let namespace = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
}
