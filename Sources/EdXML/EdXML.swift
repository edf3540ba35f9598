/// edXML packages (QCVN 102:2016/BTTTT): see docs/edxml.md.
package enum EdXML {
    package static let namespace = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
}
